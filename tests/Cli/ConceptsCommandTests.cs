using System.Globalization;
using IlgpuDiffusion.CLora.Library;
using static IlgpuDiffusion.Tests.CLora.LibraryTestData;

namespace IlgpuDiffusion.Tests.Cli;

public sealed class ConceptsCommandTests : IDisposable
{
    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("idf-concepts-");

    public void Dispose() => root.Delete(recursive: true);

    [Fact]
    public void Lists_both_concepts_in_task_order_with_the_method_lambda_and_model_hash()
    {
        var folder = Path.Combine(root.FullName, "pets");
        var random = new Random(3);
        var library = ConceptLibrary.Create(folder, BaseModel, Settings());
        library.AddTask(Record("dog", 2, "dog"), Factors(random, 2), Values(random, TokenWidth));
        library.AddTask(Record("cat", 3), Factors(random, 3), Values(random, TokenWidth));

        var (code, stdout, stderr) = ConsoleRunner.Run("concepts", "--library", folder);

        Assert.True(code == 0, stderr);
        Assert.Contains($"sha256 {BaseModel.Sha256}", stdout);
        Assert.Contains("method      c-lora   lambda 1000000   rank 2", stdout);
        var lines = stdout.Split('\n').Select(l => l.TrimEnd()).ToArray();
        var dog = Array.FindIndex(lines, l => l.StartsWith("0  ", StringComparison.Ordinal));
        var cat = Array.FindIndex(lines, l => l.StartsWith("1  ", StringComparison.Ordinal));
        Assert.True(dog > 0 && cat == dog + 1, stdout);
        string[] dogCells = ["dog", "<dog>", "49408", "dog", "2", "250", "1,234", library.Concepts[0].StoredParameters.ToString("N0", CultureInfo.InvariantCulture), "2025-03-04", "05:06"];
        Assert.Equal(["0", .. dogCells], Cells(lines[dog]));
        Assert.Equal(["1", "cat", "<cat>", "49409", "-", "3"], Cells(lines[cat])[..6]);
    }

    [Fact]
    public void A_folder_that_is_not_a_library_is_a_clear_error()
    {
        var (code, _, stderr) = ConsoleRunner.Run("concepts", "--library", root.FullName);
        Assert.NotEqual(0, code);
        Assert.Contains("not a concept library", stderr);
        Assert.Contains(root.FullName, stderr);
    }

    private static string[] Cells(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
