using System.Text.RegularExpressions;
using IlgpuDiffusion.CLora;
using IlgpuDiffusion.CLora.Library;
using IlgpuDiffusion.CLora.Training;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Images;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;
using IlgpuDiffusion.Model.TextEncoder;
using IlgpuDiffusion.Model.UNet;
using IlgpuDiffusion.Tests.CLora;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Cli;

/// <summary>The <c>train</c> command (and <see cref="ConceptTeacher"/> under it) on the tiny fixture model, 64 px images.</summary>
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

    [Fact]
    public void An_interrupted_run_resumes_from_its_step_named_checkpoint_and_ends_as_an_uninterrupted_one()
    {
        var images = TrainerModel.ImageFolder(1);
        string interrupted = Path.Combine(root.FullName, "interrupted"), whole = Path.Combine(root.FullName, "whole");
        string[] Train(string library) => ["train", "--model", TinyModel.Folder, "--library", library, "--concept", "dog", "--images", images,
            "--steps", "4", "--checkpoint-every", "2", "--resolution", "64", "--rank", "2", "--no-flip", "--device", "cpu"];

        using var cancel = new CancellationTokenSource();
        var options = new TrainerOptions { Steps = 4, CheckpointEvery = 2, Resolution = 64, Rank = 2, FlipHorizontal = false };
        Assert.Throws<OperationCanceledException>(() => ConceptTeacher.Learn(new ModelSource(TinyModel.Folder), Devices.Portable, interrupted,
            new ConceptLesson { Name = "dog", Images = images }, options,
            new LearningRun { Progress = p => { if (p.Step == 2) cancel.Cancel(); }, Cancellation = cancel.Token }));
        var checkpoints = Path.Combine(interrupted, "checkpoints", "dog");
        Assert.Equal(["step-000002.safetensors"], Directory.GetFiles(checkpoints).Select(Path.GetFileName));

        var (code, stdout, stderr) = ConsoleRunner.Run(Train(interrupted));
        Assert.True(code == 0, stderr);
        Assert.Contains("resuming dog from step 2", stderr);
        Assert.Contains("(resumed at 2)", stdout);
        Assert.DoesNotContain("step 1/4", stderr);
        Assert.Empty(Directory.GetFiles(checkpoints));
        (code, _, stderr) = ConsoleRunner.Run(Train(whole));
        Assert.True(code == 0, stderr);

        var (resumed, reference) = (ConceptLibrary.Open(interrupted), ConceptLibrary.Open(whole));
        Assert.Equal(reference.TokenRow("dog"), resumed.TokenRow("dog"));
        Assert.Equal(reference.Layers, resumed.Layers);
        foreach (var layer in reference.Layers)
        {
            var (expectedDown, _, expectedUp, _) = reference.TaskFactors(0, layer.Name);
            var (down, _, up, _) = resumed.TaskFactors(0, layer.Name);
            Assert.Equal(expectedDown, down);
            Assert.Equal(expectedUp, up);
        }
    }

    [Fact]
    public void Kv_finetune_stores_dense_deltas_the_next_task_starts_from_and_writes_validation_images()
    {
        var library = Path.Combine(root.FullName, "kv");
        var images = TrainerModel.ImageFolder(1);
        string[] Train(string concept, params string[] extra) => ["train", "--model", TinyModel.Folder, "--library", library, "--concept", concept,
            "--images", images, "--method", "kv-finetune", "--steps", "1", "--resolution", "64", "--no-flip", "--device", "cpu", .. extra];

        var (code, stdout, stderr) = ConsoleRunner.Run(Train("dog", "--validate-every", "1", "--validation-prompt", "a photo of <dog>", "--validation-steps", "1"));
        Assert.True(code == 0, stderr);
        var first = ConceptLibrary.Open(library);
        long dense = first.Layers.Sum(l => (long)l.Out * l.In), expected = dense + first.TokenWidth;
        Assert.NotEmpty(first.Layers);
        Assert.All(first.Layers, l => Assert.Matches(@"attn2\.to_[kv]$", l.Name));
        Assert.Equal(expected, first.Concepts[0].Record.TrainedParameters);
        Assert.Equal(expected, first.Concepts[0].StoredParameters);
        Assert.Contains($"{expected:N0} trained parameters, {expected:N0} stored", stdout);
        var validation = ImageFile.Read(Path.Combine(library, "validation", "dog-step-000001.png"));
        Assert.Equal((64, 64), (validation.Width, validation.Height));
        var deltas = first.Layers.ToDictionary(l => l.Name, l => first.AccumulatedDelta(l.Name));
        Assert.All(deltas.Values, d => Assert.Contains(d, v => v != 0));

        AssertRestoredWeightsAreBasePlusDelta(first, deltas);

        (code, stdout, stderr) = ConsoleRunner.Run(Train("cat"));
        Assert.True(code == 0, stderr);
        Assert.Contains("as task 2", stdout);
        var second = ConceptLibrary.Open(library);
        Assert.Equal(2, second.Concepts.Count);
        Assert.Contains(second.Layers, l => !second.AccumulatedDelta(l.Name).SequenceEqual(deltas[l.Name]));
    }

    [Theory]
    [InlineData("--adam-beta1", "1.5")]
    [InlineData("--lr", "-1")]
    [InlineData("--grad-accum", "0")]
    [InlineData("--min-snr-gamma", "0")]
    [InlineData("--prior-loss-weight", "-2")]
    [InlineData("--validation-prompt", "a photo of <dog>")]
    [InlineData("--class-images", ".")]
    [InlineData("--steps", "0")]
    [InlineData("--validation-steps", "0", "--validate-every 1 --validation-prompt <dog>")]
    public void A_bad_value_is_refused_naming_its_option(string option, string value, string others = "")
    {
        var (code, _, stderr) = ConsoleRunner.Run(["train", "--model", TinyModel.Folder, "--library", Path.Combine(root.FullName, "bad"),
            "--concept", "dog", "--images", ".", "--device", "cpu", option, value, .. others.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);
        Assert.Equal(1, code);
        Assert.Matches($"^error: {Regex.Escape(option)}[: ]", stderr);
        Assert.False(Directory.Exists(Path.Combine(root.FullName, "bad")), "nothing may be created before the options are checked");
    }

    /// <summary>A fresh model restored from <paramref name="library"/>: its K/V weights are W + Δ, every other linear weight is W.</summary>
    private static void AssertRestoredWeightsAreBasePlusDelta(ConceptLibrary library, Dictionary<string, float[]> deltas)
    {
        using var checkpoint = TinyModel.Open(TinyLayout.DiffusersFolder, DType.F32);
        using var unet = UNet2DCondition.Load(checkpoint);
        using var textEncoder = new ClipTextEncoder(checkpoint.Config.TextEncoder, checkpoint.TextEncoder);
        using var tokens = new ConceptTokens(checkpoint.LoadTokenizer(), textEncoder);
        var linears = unet.Descendants().OfType<LinearLayer>().ToList();
        var before = linears.ToDictionary(l => l.Name, l => l.Weight.Value.ToFloatArray());
        using var past = LibraryState.Restore(library, unet, tokens, Devices.Portable);
        Assert.Empty(past.Layers);
        foreach (var layer in linears)
        {
            var expected = deltas.TryGetValue(layer.Name, out var delta) ? before[layer.Name].Zip(delta, (w, d) => w + d).ToArray() : before[layer.Name];
            Assert.Equal(expected, layer.Weight.Value.ToFloatArray());
        }
    }
}
