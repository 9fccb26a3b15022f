using IlgpuDiffusion.CLora.Generation;
using IlgpuDiffusion.CLora.Interop;
using IlgpuDiffusion.CLora.Library;
using IlgpuDiffusion.Tests.Support;
using static IlgpuDiffusion.Tests.CLora.Interop.TinyModules;
using Factors = (float[] down, int[] downShape, float[] up, int[] upShape);

namespace IlgpuDiffusion.Tests.CLora.Generation;

/// <summary><see cref="PipelineCustomization.AddLibrary"/> on the tiny fixture model with a two-concept c-lora library.</summary>
public sealed class LibraryGenerationTests : IDisposable
{
    private static readonly LibraryLayer[] Layers =
    [
        new("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k", 32, 32),
        new("mid_block.attentions.0.transformer_blocks.0.attn2.to_v", 64, 32),
    ];

    private const int Rank = 2, Width = 32;

    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("idf-library-gen-");

    public void Dispose() => folder.Delete(recursive: true);

    [Fact]
    public void A_library_adds_its_tokens_and_folds_the_sum_of_its_tasks_deltas_into_the_unet()
    {
        var library = CreateLibrary(ModelIdentity.Compute(TinyModel.Folder));
        using var pipeline = TinyPipelines.Load();
        using var custom = new PipelineCustomization(pipeline);

        var applied = custom.AddLibrary(library, ModelIdentity.Compute(TinyModel.Folder));

        Assert.Equal(["<dog>", "<cat>"], applied.Concepts.Select(c => c.Token));
        Assert.Equal(Layers.Select(l => l.Name), applied.FoldedLayers);
        Assert.Equal([49408, 49409], pipeline.Tokenizer.Tokenize("<DOG><cat>"));
        Assert.Equal([.. library.TokenRow("dog"), .. library.TokenRow("cat")], pipeline.TextEncoder.ExtraTokenRows!.Value.ToFloatArray());
        foreach (var layer in Layers)
        {
            var original = TinyPipelines.FixtureWeight(LoraComponent.UNet, layer.Name);
            var expected = original.Select(w => (double)w).ToArray();
            for (int task = 0; task < 2; task++)
            {
                var (down, _, up, _) = library.TaskFactors(task, layer.Name);
                var delta = Product(up, down, layer.Out, Rank, 1.0);
                for (int i = 0; i < expected.Length; i++) expected[i] += delta[i];
            }
            var actual = TinyPipelines.PipelineWeight(pipeline, LoraComponent.UNet, layer.Name);
            Assert.True(Reference.RelativeError(original, expected) > 0.1, $"{layer.Name}: the deltas are too small to see");
            Assert.True(Reference.RelativeError(actual, expected) <= 1e-6, $"{layer.Name}: rel error {Reference.RelativeError(actual, expected):E2}");
        }
        Assert.Equal(["<zzz>"], custom.UnknownConcepts("a <dog> and <CAT> with <zzz>, <lora:style:1> and <zzz>"));
    }

    [Fact]
    public void A_library_of_another_model_is_refused_and_changes_nothing()
    {
        var library = CreateLibrary(LibraryTestData.BaseModel);
        using var pipeline = TinyPipelines.Load();
        using var custom = new PipelineCustomization(pipeline);

        var e = Assert.Throws<ConceptLibraryException>(() => custom.AddLibrary(library, ModelIdentity.Compute(TinyModel.Folder)));

        Assert.Contains(LibraryTestData.BaseModel.Sha256, e.Message);
        Assert.Contains(ModelIdentity.Compute(TinyModel.Folder).Sha256, e.Message);
        Assert.Empty(custom.Tokens);
        Assert.Empty(pipeline.Tokenizer.AddedTokens);
        Assert.Equal(TinyPipelines.FixtureWeight(LoraComponent.UNet, Layers[0].Name), TinyPipelines.PipelineWeight(pipeline, LoraComponent.UNet, Layers[0].Name));
    }

    /// <summary>A c-lora library for <paramref name="model"/> with concepts dog and cat: random factors on <see cref="Layers"/> and random token rows.</summary>
    private ConceptLibrary CreateLibrary(ModelIdentity model)
    {
        var library = ConceptLibrary.Create(Path.Combine(folder.FullName, "lib"), model, LibraryTestData.Settings());
        int seed = 1;
        foreach (var name in new[] { "dog", "cat" })
        {
            var factors = Layers.ToDictionary(l => l.Name, l => (Factors)(
                Random([Rank, l.In], seed++), [Rank, l.In], Random([l.Out, Rank], seed++), [l.Out, Rank]));
            library.AddTask(LibraryTestData.Record(name, Rank), factors, Random([Width], seed++));
        }
        return library;
    }
}
