using System.Text.Json;
using IlgpuDiffusion.Evaluation.Extractors;
using IlgpuDiffusion.Evaluation.Metrics;
using IlgpuDiffusion.Tests.Evaluation;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Cli;

/// <summary>
/// The <c>metrics</c> command on small synthetic folders with the tiny CLIP and DINO fixtures: its JSON equals the
/// fixture-tested metric functions on the extractors' embeddings, identical folders give the set's self-similarity and
/// a negative KID, and a folder of one image is a clear error.
/// </summary>
public sealed class MetricsCommandTests : IDisposable
{
    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("idf-metrics-");

    public void Dispose() => root.Delete(recursive: true);

    [Fact]
    public void Json_matches_the_metric_functions_on_the_extracted_embeddings()
    {
        string real = SyntheticImages.Write(Path.Combine(root.FullName, "real"), 3, seed: 1);
        string generated = SyntheticImages.Write(Path.Combine(root.FullName, "gen"), 4, seed: 2);

        var json = RunJson("--real", real, "--generated", generated, "--clip", EvalFixtures.Clip, "--dino", EvalFixtures.Dino,
            "--prompt", "a photo of a dog");

        using var clip = ClipModel.Load(EvalFixtures.Clip, Devices.Portable);
        using var dino = DinoModel.Load(EvalFixtures.Dino, Devices.Portable);
        var (r, g) = (SyntheticImages.Read(real), SyntheticImages.Read(generated));
        var (rc, gc) = (clip.EmbedImages(r), clip.EmbedImages(g));
        var text = clip.EmbedTexts(["a photo of a dog"])[0];
        Expect(json, "clip-i", new MeanCosineScore(gc, rc));
        Expect(json, "dino-i", new MeanCosineScore(dino.EmbedImages(g), dino.EmbedImages(r)));
        Expect(json, "clip-t", new PairedCosineScore(gc, [.. gc.Select(_ => text)]));
        Expect(json, "kid-clip", KernelDistanceScore.Kid(gc, rc));
        Expect(json, "mmd-clip", new KernelDistanceScore(gc, rc));
    }

    [Fact]
    public void Identical_folders_give_the_self_similarity_and_a_negative_kid()
    {
        string folder = SyntheticImages.Write(Path.Combine(root.FullName, "same"), 3, seed: 3);

        var json = RunJson("--real", folder, "--generated", folder, "--clip", EvalFixtures.Clip);

        using var clip = ClipModel.Load(EvalFixtures.Clip, Devices.Portable);
        var e = clip.EmbedImages(SyntheticImages.Read(folder));
        double offDiagonal = (EmbeddingSet.Cosine(e[0], e[1]) + EmbeddingSet.Cosine(e[0], e[2]) + EmbeddingSet.Cosine(e[1], e[2])) * 2;
        Assert.Equal((3 + offDiagonal) / 9, json.GetProperty("clip-i").GetProperty("value").GetDouble(), 1e-6);
        Assert.True(json.GetProperty("kid-clip").GetProperty("value").GetDouble() < 0);
        Assert.False(json.TryGetProperty("dino-i", out _));
        Assert.False(json.TryGetProperty("clip-t", out _));
    }

    [Fact]
    public void A_folder_of_one_image_is_a_clear_error()
    {
        string real = SyntheticImages.Write(Path.Combine(root.FullName, "one"), 1, seed: 4);
        string generated = SyntheticImages.Write(Path.Combine(root.FullName, "two"), 2, seed: 5);

        var (code, _, stderr) = ConsoleRunner.Run("metrics", "--real", real, "--generated", generated, "--clip", EvalFixtures.Clip, "--device", "cpu");

        Assert.Equal(1, code);
        Assert.Contains($"error: image folder '{real}' holds 1 image", stderr);
        Assert.Contains("at least 2", stderr);
    }

    private static JsonElement RunJson(params string[] args)
    {
        var (code, stdout, stderr) = ConsoleRunner.Run(["metrics", .. args, "--json", "--device", "cpu"]);
        Assert.True(code == 0, stderr);
        return JsonDocument.Parse(stdout).RootElement;
    }

    private static void Expect(JsonElement json, string name, IResamplableScore score)
    {
        var entry = json.GetProperty(name);
        double value = entry.GetProperty("value").GetDouble();
        var ci = entry.GetProperty("ci95");
        Assert.Equal(score.Value, value, 1e-9);
        var interval = Bootstrap.Interval(score);
        Assert.Equal(interval.Lower, ci[0].GetDouble(), 1e-9);
        Assert.Equal(interval.Upper, ci[1].GetDouble(), 1e-9);
        Assert.True(interval.Contains(value) && interval.Width > 0, $"{name}: {value} in [{interval.Lower}, {interval.Upper}]");
    }
}
