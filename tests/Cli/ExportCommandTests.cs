using IlgpuDiffusion.CLora.Interop;
using IlgpuDiffusion.CLora.Library;
using IlgpuDiffusion.Model.SafeTensors;
using static IlgpuDiffusion.Tests.CLora.LibraryTestData;

namespace IlgpuDiffusion.Tests.Cli;

/// <summary>The <c>export</c> command: a c-lora and a kv-finetune library written as LoRA plus embeddings, and its errors.</summary>
public sealed class ExportCommandTests : IDisposable
{
    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("idf-export-");
    private readonly Random random = new(77);

    public void Dispose() => root.Delete(recursive: true);

    private string PathOf(params string[] parts) => Path.Combine([root.FullName, .. parts]);

    [Fact]
    public void Exports_a_clora_library_as_a_kohya_lora_and_one_embedding_per_concept()
    {
        var folder = PathOf("pets");
        var library = ConceptLibrary.Create(folder, BaseModel, Settings());
        library.AddTask(Record("dog", 2), Factors(random, 2), Values(random, TokenWidth));
        library.AddTask(Record("cat", 3), Factors(random, 3), Values(random, TokenWidth));
        var lora = PathOf("out", "pets.safetensors");

        var (code, stdout, stderr) = ConsoleRunner.Run("export", "--library", folder, "--format", "kohya", "--output", lora);

        Assert.True(code == 0, stderr);
        Assert.Contains($"wrote {lora}: kohya LoRA, 3 layers, rank 5 (tasks 2 + 3 concatenated, exact), c-lora", stdout);
        Assert.Contains($"wrote {PathOf("out", "<dog>.safetensors")}: embedding of <dog>", stdout);
        Assert.Contains($"wrote {PathOf("out", "<cat>.safetensors")}: embedding of <cat>", stdout);
        Assert.Equal(library.TokenRow("cat"), TextualInversionEmbedding.Read(PathOf("out", "<cat>.safetensors")).Vectors.ToArray());
        using var file = SafeTensorsReader.Open(lora);
        Assert.Equal("5", file.Metadata["ss_network_dim"]);
        Assert.Equal(Layers.Length * 3, file.Tensors.Count);
    }

    [Fact]
    public void Prints_each_layers_svd_error_for_a_kv_finetune_library()
    {
        var folder = PathOf("kv");
        var library = ConceptLibrary.Create(folder, BaseModel, Settings(LibraryMethod.KvFinetune));
        library.AddDenseTask(Record("dog", 0), Deltas(random), Values(random, TokenWidth));
        var lora = PathOf("kv.safetensors");

        var (code, stdout, stderr) = ConsoleRunner.Run("export", "--library", folder, "--format", "diffusers", "--output", lora, "--rank", "2");

        Assert.True(code == 0, stderr);
        var result = LibraryExport.Export(library, PathOf("again.safetensors"), LibraryExportFormat.Diffusers, 2);
        Assert.Contains($"wrote {lora}: diffusers LoRA, 3 layers, rank 2 (truncated SVD), kv-finetune", stdout);
        foreach (var layer in result.Layers)
            Assert.Contains(FormattableString.Invariant($"rank 2  relative error {layer.RelativeError:E3}"), stdout);
        Assert.Contains(FormattableString.Invariant($"relative Frobenius reconstruction error, all layers: {result.RelativeError:E3}"), stdout);
        Assert.InRange(result.RelativeError!.Value, 0.05, 0.99);
    }

    [Fact]
    public void Missing_library_unknown_format_and_bad_rank_are_clear_errors()
    {
        var folder = PathOf("pets");
        var library = ConceptLibrary.Create(folder, BaseModel, Settings());
        library.AddTask(Record("dog", 2), Factors(random, 2), Values(random, TokenWidth));
        var lora = PathOf("out", "pets.safetensors");

        var (missing, _, missingError) = ConsoleRunner.Run("export", "--library", PathOf("nowhere"), "--output", lora);
        Assert.Equal(1, missing);
        Assert.Contains(PathOf("nowhere"), missingError);

        var (unknown, _, unknownError) = ConsoleRunner.Run("export", "--library", folder, "--format", "peft", "--output", lora);
        Assert.NotEqual(0, unknown);
        Assert.Contains("peft", unknownError);
        Assert.Contains("kohya", unknownError);

        foreach (var rank in new[] { "0", "-2" })
        {
            var (code, _, stderr) = ConsoleRunner.Run("export", "--library", folder, "--output", lora, "--rank", rank);
            Assert.Equal(1, code);
            Assert.StartsWith($"error: rank {rank}: the export rank must be ≥ 1", stderr);
        }
        Assert.False(Directory.Exists(PathOf("out")));
    }
}
