using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.CLora;
using IlgpuDiffusion.CLora.Interop;
using IlgpuDiffusion.CLora.Library;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;
using static IlgpuDiffusion.Tests.CLora.Interop.TinyModules;
using static IlgpuDiffusion.Tests.CLora.LibraryTestData;

namespace IlgpuDiffusion.Tests.CLora.Interop;

/// <summary>
/// A concept library exported as one LoRA plus embeddings (<see cref="LibraryExport"/>) and read back with the importers:
/// the same ΔW per layer, the same token rows, and the same UNet output as the library restored.
/// </summary>
public sealed class LibraryExportTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>The tiny model's width of a token row (its text encoder's hidden size).</summary>
    private const int TinyTokenWidth = 32;

    /// <summary>Two cross-attention layers of the tiny UNet, so the export reads back against the real module index.</summary>
    private static readonly LibraryLayer[] TinyLayers = [new(ToK, 32, 32), new(MidToV, 64, 32)];

    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("idf-library-export-");
    private readonly Random random = new(60606);

    public void Dispose() => root.Delete(recursive: true);

    private string PathOf(params string[] parts) => Path.Combine([root.FullName, .. parts]);

    [Theory]
    [InlineData(LibraryExportFormat.Kohya)]
    [InlineData(LibraryExportFormat.Diffusers)]
    public void Two_task_export_imports_as_the_sum_of_the_task_deltas_with_exact_token_rows(LibraryExportFormat format)
    {
        var library = TwoTaskLibrary(out var tasks);
        var result = LibraryExport.Export(library, PathOf("out", "pets.safetensors"), format);

        Assert.Equal(PathOf("out", "pets.safetensors"), result.LoraPath);
        Assert.Null(result.RelativeError);
        Assert.All(result.Layers, l => Assert.Equal((5, (double?)null), (l.Rank, l.RelativeError)));
        var read = LoraFile.Read(result.LoraPath!, Modules);
        Assert.Empty(read.Unmatched);
        Assert.Equal(TinyLayers.Select(l => l.Name).Order(StringComparer.Ordinal), read.Layers.Select(l => l.ModuleName));
        foreach (var layer in read.Layers)
        {
            Assert.Equal((LoraComponent.UNet, 5, 1.0), (layer.Component, layer.Rank, layer.Scale));
            var expected = new double[layer.OutFeatures * layer.InFeatures];
            foreach (var task in tasks)
            {
                var (down, downShape, up, _) = task[layer.ModuleName];
                var delta = Product(up, down, layer.OutFeatures, downShape[0], 1.0);
                for (int i = 0; i < expected.Length; i++) expected[i] += delta[i];
            }
            double error = Reference.RelativeError(layer.ComputeDelta(), expected);
            output.WriteLine($"{format} {layer.ModuleName}: imported ΔW vs float64 Σ_t up_t·down_t, relative error {error:E2}");
            Assert.True(error <= 1e-6, $"{layer.ModuleName}: relative error {error:E2}");
        }
        AssertEmbeddings(library, result);
    }

    [Fact]
    public void Kohya_export_states_the_rank_alpha_concepts_tokens_and_model_in_its_metadata()
    {
        var library = TwoTaskLibrary(out _);
        var path = LibraryExport.Export(library, PathOf("pets.safetensors"), LibraryExportFormat.Kohya).LoraPath!;
        using var file = SafeTensorsReader.Open(path);

        Assert.Equal([5f], file.ReadF32("lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_v.alpha"));
        Assert.Equal(("5", "5"), (file.Metadata["ss_network_dim"], file.Metadata["ss_network_alpha"]));
        Assert.Equal("pets", file.Metadata["ss_output_name"]);
        Assert.Equal("c-lora", file.Metadata["idf_method"]);
        Assert.Equal("""["dog","cat"]""", file.Metadata["idf_concepts"]);
        Assert.Equal("""["<dog>","<cat>"]""", file.Metadata["idf_tokens"]);
        Assert.Equal(BaseModel.Sha256, file.Metadata["idf_model_sha256"]);
    }

    [Fact]
    public void Restored_library_and_its_imported_export_give_the_same_unet_output()
    {
        var library = TwoTaskLibrary(out _);
        var result = LibraryExport.Export(library, PathOf("pets.safetensors"), LibraryExportFormat.Kohya);
        var lora = LoraFile.Read(result.LoraPath!, Modules);
        var device = Devices.Portable;
        using var model = new TinySd();
        using var sample = Var.Constant(Tensor.FromHost(device, Reference.RandomNormal(8 * 8 * 4, 610), 1, 8, 8, 4));
        using var context = Var.Constant(Tensor.FromHost(device, Reference.RandomNormal(8 * 32, 611), 1, 8, 32));
        using var timesteps = Tensor.FromHost(device, [500], 1);
        float[] Run()
        {
            using var _ = Grad.NoGrad();
            using var prediction = model.UNet.Forward(sample, timesteps, context);
            return prediction.Value.ToFloatArray();
        }

        var weights = TinyLayers.ToDictionary(l => l.Name, l => model.UNet.FindLinear(l.Name).Weight.Value);
        var bases = weights.ToDictionary(w => w.Key, w => w.Value.ToFloatArray());
        var plain = Run();
        foreach (var layer in lora.Layers) weights[layer.ModuleName].CopyFromHost(Folded(bases[layer.ModuleName], layer.ComputeDelta()));
        var imported = Run();
        foreach (var (name, weight) in weights) weight.CopyFromHost(bases[name]);
        using var tokens = new ConceptTokens(model.Tokenizer, model.TextEncoder);
        using var past = LibraryState.Restore(library, model.UNet, tokens, device);
        var restored = Run();

        double change = Reference.RelativeError(imported, plain), difference = Reference.RelativeError(imported, restored);
        output.WriteLine($"UNet output: imported LoRA vs restored library {difference:E2} (the LoRA changes it by {change:E2})");
        Assert.True(change > 1e-2, $"the LoRA changes the output by only {change:E2}");
        Assert.True(difference <= 1e-5, $"imported vs restored: relative difference {difference:E2}");
        foreach (var embedding in result.Embeddings.Select(e => TextualInversionEmbedding.Read(e.Path)))
            Assert.Equal(embedding.Vectors.ToArray(), tokens.ReadRow(Assert.Single(tokens.Tokens, t => t.Text == embedding.Token)));
    }

    [Fact]
    public void Kv_finetune_export_keeps_a_low_rank_delta_and_reports_the_discarded_energy_of_a_full_rank_one()
    {
        double[] lowSigma = [3, 2, 1, .. new double[29]];
        double[] fullSigma = [.. Enumerable.Range(0, 32).Select(j => 1.0 / (1 + j))];
        var low = TruncatedSvdTests.WithSingularValues(32, 32, lowSigma, seed: 21);
        var full = TruncatedSvdTests.WithSingularValues(64, 32, fullSigma, seed: 23);
        var library = ConceptLibrary.Create(PathOf("kv"), BaseModel, Settings(LibraryMethod.KvFinetune));
        library.AddDenseTask(Record("dog", 0), new Dictionary<string, (float[], int[])>
        {
            [ToK] = ([.. low.Select(v => (float)v)], [32, 32]),
            [MidToV] = ([.. full.Select(v => (float)v)], [64, 32]),
        }, Values(random, TinyTokenWidth));

        const int rank = 4;
        var result = LibraryExport.Export(library, PathOf("kv.safetensors"), LibraryExportFormat.Kohya, rank);

        double discarded = fullSigma.Skip(rank).Sum(s => s * s), kept = fullSigma.Take(rank).Sum(s => s * s);
        double expectedLayer = Math.Sqrt(discarded / (discarded + kept));
        double expectedOverall = Math.Sqrt(discarded / (discarded + kept + lowSigma.Sum(s => s * s)));
        var (lowLayer, fullLayer) = (Assert.Single(result.Layers, l => l.ModuleName == ToK), Assert.Single(result.Layers, l => l.ModuleName == MidToV));
        output.WriteLine($"rank {rank}: low-rank layer error {lowLayer.RelativeError:E2}; full-rank layer {fullLayer.RelativeError:E6} " +
                         $"(float64 σ: {expectedLayer:E6}); overall {result.RelativeError:E6} (float64 σ: {expectedOverall:E6})");
        Assert.All(result.Layers, l => Assert.Equal(rank, l.Rank));
        Assert.True(lowLayer.RelativeError <= 1e-5, $"low-rank layer error {lowLayer.RelativeError:E2}");
        Assert.True(Math.Abs(fullLayer.RelativeError!.Value - expectedLayer) <= 1e-5 * expectedLayer, $"{fullLayer.RelativeError} vs {expectedLayer}");
        Assert.True(Math.Abs(result.RelativeError!.Value - expectedOverall) <= 1e-5 * expectedOverall, $"{result.RelativeError} vs {expectedOverall}");

        var read = LoraFile.Read(result.LoraPath!, Modules);
        Assert.Empty(read.Unmatched);
        Assert.True(Reference.RelativeError(Single(read, ToK).ComputeDelta(), low) <= 1e-5);
        Assert.Equal(expectedLayer, Reference.RelativeError(Single(read, MidToV).ComputeDelta(), full), 1e-5 * expectedLayer);
        AssertEmbeddings(library, result);
    }

    [Fact]
    public void A_clora_library_given_a_rank_is_refactored_from_its_summed_deltas()
    {
        var library = TwoTaskLibrary(out _);
        var result = LibraryExport.Export(library, PathOf("svd.safetensors"), LibraryExportFormat.Diffusers, rank: 5);

        Assert.True(result.RelativeError <= 1e-5, $"rank 5 of a rank-5 sum: error {result.RelativeError:E2}");
        var read = LoraFile.Read(result.LoraPath!, Modules);
        foreach (var layer in TinyLayers)
        {
            var delta = Single(read, layer.Name);
            Assert.Equal(5, delta.Rank);
            Assert.True(Reference.RelativeError(delta.ComputeDelta(), library.AccumulatedDelta(layer.Name)) <= 1e-5, layer.Name);
        }
        var lower = LibraryExport.Export(library, PathOf("svd2.safetensors"), LibraryExportFormat.Diffusers, rank: 2);
        Assert.InRange(lower.RelativeError!.Value, 0.05, 0.99);
    }

    [Fact]
    public void A_token_only_library_exports_only_its_embeddings()
    {
        var library = ConceptLibrary.Create(PathOf("ti"), BaseModel, Settings(LibraryMethod.TokenOnly));
        library.AddTask(Record("dog", 0), new Dictionary<string, (float[], int[], float[], int[])>(), Values(random, TinyTokenWidth));
        library.AddTask(Record("cat", 0), new Dictionary<string, (float[], int[], float[], int[])>(), Values(random, TinyTokenWidth));

        var result = LibraryExport.Export(library, PathOf("out", "ti.safetensors"), LibraryExportFormat.Kohya);

        Assert.Null(result.LoraPath);
        Assert.Empty(result.Layers);
        Assert.False(File.Exists(PathOf("out", "ti.safetensors")));
        Assert.Equal([PathOf("out", "<dog>.safetensors"), PathOf("out", "<cat>.safetensors")], result.Embeddings.Select(e => e.Path));
        AssertEmbeddings(library, result);
    }

    [Fact]
    public void Bad_arguments_are_refused_before_anything_is_written()
    {
        var clora = TwoTaskLibrary(out _);
        var kv = ConceptLibrary.Create(PathOf("kv"), BaseModel, Settings(LibraryMethod.KvFinetune));
        kv.AddDenseTask(Record("dog", 0), Deltas(random), Values(random, TokenWidth));
        var empty = ConceptLibrary.Create(PathOf("empty"), BaseModel, Settings());
        var lora = PathOf("out", "x.safetensors");

        Assert.Contains("kv-finetune library", Refused(kv, lora, null));
        Assert.Contains("rank 0: the export rank must be ≥ 1", Refused(clora, lora, 0));
        Assert.Contains("rank -3", Refused(kv, lora, -3));
        Assert.Contains("has no concepts yet", Refused(empty, lora, null));
        Assert.Contains("expected a .safetensors file name", Refused(clora, PathOf("out", "x.pt"), null));
        Assert.Contains("where the embedding of <cat> goes", Refused(clora, PathOf("out", "<cat>.safetensors"), null));
        Assert.False(Directory.Exists(PathOf("out")));
    }

    private static string Refused(ConceptLibrary library, string lora, int? rank) =>
        Assert.Throws<ArgumentException>(() => LibraryExport.Export(library, lora, LibraryExportFormat.Kohya, rank)).Message;

    /// <summary>A c-lora library on <see cref="TinyLayers"/>: "dog" at rank 2, then "cat" at rank 3, with random factors and rows.</summary>
    private ConceptLibrary TwoTaskLibrary(out Dictionary<string, (float[] down, int[] downShape, float[] up, int[] upShape)>[] tasks)
    {
        var library = ConceptLibrary.Create(PathOf("lib"), BaseModel, Settings());
        tasks = [Factors(random, 2, TinyLayers), Factors(random, 3, TinyLayers)];
        library.AddTask(Record("dog", 2), tasks[0], Values(random, TinyTokenWidth));
        library.AddTask(Record("cat", 3), tasks[1], Values(random, TinyTokenWidth));
        return library;
    }

    /// <summary>Each concept's file reads back (by file name) as its token, with its row unchanged.</summary>
    private static void AssertEmbeddings(ConceptLibrary library, LibraryExportResult result)
    {
        Assert.Equal(library.Concepts.Select(c => c.Token), result.Embeddings.Select(e => e.Token));
        foreach (var (concept, file) in library.Concepts.Zip(result.Embeddings))
        {
            var embedding = TextualInversionEmbedding.Read(file.Path);
            Assert.Equal((concept.Token, concept.Token, 1), (embedding.Token, embedding.StoredName, embedding.Count));
            Assert.Equal(library.TokenRow(concept.Name), embedding.Vectors.ToArray());
        }
    }

    private static LoraLayerDelta Single(LoraFile file, string module) => Assert.Single(file.Layers, l => l.ModuleName == module);

    /// <summary>W + ΔW, added in float64 and rounded once: the fold an importer does.</summary>
    private static float[] Folded(float[] weight, float[] delta) => [.. weight.Select((w, i) => (float)((double)w + delta[i]))];
}
