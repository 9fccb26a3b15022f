using System.Text.Json;
using IlgpuDiffusion.Evaluation.Extractors;
using IlgpuDiffusion.Evaluation.Protocol;
using IlgpuDiffusion.Evaluation.Scoring;
using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Tests.Evaluation;

/// <summary>
/// The protocol's bookkeeping with test doubles (no model): stopping after task 1 and rerunning completes without
/// relearning or resampling task 1; the paired seeds; the score matrix shape; a changed setting is refused.
/// </summary>
public sealed class SequenceResumeTests : IDisposable
{
    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("idf-sequence-");

    public void Dispose() => root.Delete(recursive: true);

    [Fact]
    public void Rerun_after_an_interruption_completes_without_relearning_task_1()
    {
        var settings = Settings("c-lora");
        var learner = new CountingLearner();
        var sampler = new SeedSampler();
        string output = Path.Combine(root.FullName, "eval");

        var first = new SequenceEvaluation(output, settings, learner, sampler, Doubles).Run(new SequenceRun { StopAfterTasks = 1 });
        Assert.Equal(["rex"], learner.Learned);
        Assert.Single(first.Tasks);
        Assert.False(first.Complete);

        var second = new SequenceEvaluation(output, settings, learner, sampler, Doubles).Run();

        Assert.Equal(["rex", "tom"], learner.Learned);
        Assert.True(second.Complete);
        // Task 1 drew 4 images (rex); task 2 drew 8 (rex and tom again, after the new task), nothing twice.
        Assert.Equal([4, 8], sampler.Batches);
        // Paired seeds: rex's images carry the same seeds after both tasks.
        var seeds = second.Tasks.Select(t => t.Images.Where(i => i.Concept == "rex").Select(i => i.Seed).ToArray()).ToList();
        Assert.Equal(seeds[0], seeds[1]);
        Assert.Equal([1000L, 1001, 1500, 1501], seeds[0]);

        var scores = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "scores.json"))).RootElement;
        // 3 cells (rex@1, rex@2, tom@2) × 3 metrics (no DINO extractor).
        Assert.Equal(9, scores.GetProperty("cells").GetArrayLength());
        ReportChecks.ParseAndCheckLinks(output);
    }

    [Fact]
    public void A_rerun_with_other_settings_is_refused()
    {
        string output = Path.Combine(root.FullName, "eval");
        new SequenceEvaluation(output, Settings("lora"), new CountingLearner(), new SeedSampler(), Doubles).Run(new SequenceRun { StopAfterTasks = 1 });

        var changed = Settings("lora") with { ImagesPerConcept = 3 };
        var error = Assert.Throws<ArgumentException>(() =>
            new SequenceEvaluation(output, changed, new CountingLearner(), new SeedSampler(), Doubles).Run());
        Assert.Contains("lora evaluation made with other settings", error.Message);
    }

    [Fact]
    public void Fewer_than_two_images_per_concept_is_a_clear_error()
    {
        var error = Assert.Throws<ArgumentException>(() => (Settings("c-lora") with { ImagesPerConcept = 1 }).Validate());
        Assert.Contains("at least 2", error.Message);
    }

    private static FeatureExtractors Doubles { get; } = new(new PixelEmbedder(), new TextEmbedder());

    private SequenceSettings Settings(string method) => new()
    {
        Concepts =
        [
            new ConceptSpec("rex", SyntheticImages.Write(Path.Combine(root.FullName, "rex"), 3, seed: 10), "dog"),
            new ConceptSpec("tom", SyntheticImages.Write(Path.Combine(root.FullName, "tom"), 2, seed: 11), "cat"),
        ],
        Method = method,
        Model = "test-model",
        ImagesPerConcept = 2,
        Sampling = new SamplingSettings { Steps = 2, Resolution = 16 },
        ContextPrompts = ["a photo of {} on the beach"],
    };

    private sealed class CountingLearner : IConceptLearner
    {
        public List<string> Learned { get; } = [];

        public LearnedTask Learn(string libraryFolder, ConceptSpec concept, CancellationToken cancellation)
        {
            Learned.Add(concept.Name);
            return new LearnedTask(100 * Learned.Count, 10 * Learned.Count);
        }
    }

    /// <summary>Images whose pixels are a function of the seed and the library's task count (later tasks drift).</summary>
    private sealed class SeedSampler : IConceptSampler
    {
        public List<int> Batches { get; } = [];

        public IReadOnlyList<(RgbImage Image, string Sampler)> Generate(string libraryFolder, IReadOnlyList<SampleRequest> requests, SamplingSettings settings)
        {
            Batches.Add(requests.Count);
            return [.. requests.Select(r =>
            {
                var rng = new Random((int)r.Seed + 7 * Batches.Count);
                var pixels = new byte[16 * 16 * 3];
                rng.NextBytes(pixels);
                return (new RgbImage(16, 16, pixels), "test");
            })];
        }
    }

    /// <summary>Mean R, G, B of each image quadrant (12 values) plus 1: a deterministic stand-in for CLIP's vision tower.</summary>
    private sealed class PixelEmbedder : IImageEmbedder
    {
        public string Name => "pixels";

        public int Dimension => 12;

        public float[][] EmbedImages(IReadOnlyList<RgbImage> images) => [.. images.Select(image =>
        {
            var features = new float[12];
            var pixels = image.Pixels;
            for (int y = 0; y < image.Height; y++)
                for (int x = 0; x < image.Width; x++)
                    for (int c = 0; c < 3; c++)
                        features[3 * (2 * (2 * y / image.Height) + 2 * x / image.Width) + c] += pixels[3 * (y * image.Width + x) + c];
            return features.Select(f => f / (image.Width * image.Height / 4f) / 255f + 1).ToArray();
        })];
    }

    private sealed class TextEmbedder : ITextEmbedder
    {
        public int Dimension => 12;

        public float[][] EmbedTexts(IReadOnlyList<string> prompts) =>
            [.. prompts.Select(p => Enumerable.Range(0, 12).Select(k => 1f + p.Where((_, i) => i % 12 == k).Sum(ch => ch) / 1000f).ToArray())];
    }
}
