using IlgpuDiffusion.Tests.CLora;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Cli;

/// <summary>The <c>train</c> command on the tiny fixture model: two concepts learned into one new library.</summary>
public sealed class TrainCommandTests : IDisposable
{
    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("idf-train-");

    public void Dispose() => root.Delete(recursive: true);

    [Fact]
    public void Two_concepts_trained_into_a_new_library_are_both_listed()
    {
        var library = Path.Combine(root.FullName, "lib");
        var images = TrainerModel.ImageFolder(2);

        foreach (var concept in new[] { "dog", "cat" })
        {
            var (code, stdout, stderr) = ConsoleRunner.Run("train", "--model", TinyModel.Folder, "--library", library, "--concept", concept,
                "--images", images, "--steps", "2", "--resolution", "64", "--rank", "2", "--device", "cpu");
            Assert.True(code == 0, stderr);
            Assert.Contains("step 2/2", stderr);
            Assert.Contains($"learned <{concept}>", stdout);
        }

        var (listed, list, error) = ConsoleRunner.Run("concepts", "--library", library);
        Assert.True(listed == 0, error);
        Assert.Contains("method      c-lora", list);
        Assert.Contains("<dog>", list);
        Assert.Contains("<cat>", list);
    }
}
