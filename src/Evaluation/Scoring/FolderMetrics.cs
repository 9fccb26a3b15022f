using IlgpuDiffusion.Evaluation.Metrics;
using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Evaluation.Scoring;

/// <summary>
/// Scores a folder of generated images against a folder of real ones, as researchers use clean-fid: CLIP-I, DINO-I
/// (with a DINO extractor), KID-CLIP and MMD²-CLIP, and CLIP-T of every generated image against one prompt; each with
/// a 95% percentile-bootstrap interval (<see cref="Bootstrap"/>). KID needs at least 2 images per folder.
/// <code>
/// using var clip = ClipModel.Load("models/clip-vit-base-patch32", device);
/// var results = FolderMetrics.Score("photos/rex", "out/rex", FeatureExtractors.Of(clip), prompt: "a photo of a dog");
/// </code>
/// </summary>
public static class FolderMetrics
{
    /// <summary>Reads both folders and scores them (<see cref="Score(IReadOnlyList{RgbImage}, IReadOnlyList{RgbImage}, FeatureExtractors, string?, int, ulong)"/>).</summary>
    public static IReadOnlyList<MetricResult> Score(string realFolder, string generatedFolder, FeatureExtractors extractors, string? prompt = null,
        int resamples = Bootstrap.DefaultResamples, ulong seed = Bootstrap.DefaultSeed) =>
        Score(ImageFolder.Read(realFolder, 2), ImageFolder.Read(generatedFolder, 2), extractors, prompt, resamples, seed);

    /// <summary>The metrics of <paramref name="generated"/> against <paramref name="real"/>, in <see cref="MetricKind.All"/> order.</summary>
    public static IReadOnlyList<MetricResult> Score(IReadOnlyList<RgbImage> real, IReadOnlyList<RgbImage> generated, FeatureExtractors extractors,
        string? prompt = null, int resamples = Bootstrap.DefaultResamples, ulong seed = Bootstrap.DefaultSeed)
    {
        ArgumentNullException.ThrowIfNull(extractors);
        var realClip = extractors.ClipImages.EmbedImages(real);
        var generatedClip = extractors.ClipImages.EmbedImages(generated);
        var results = new List<MetricResult> { MetricResult.Of(MetricKind.ClipI, new MeanCosineScore(generatedClip, realClip), resamples, seed) };
        if (extractors.Dino is { } dino)
            results.Add(MetricResult.Of(MetricKind.DinoI, new MeanCosineScore(dino.EmbedImages(generated), dino.EmbedImages(real)), resamples, seed));
        if (prompt is not null)
        {
            var text = extractors.ClipTexts.EmbedTexts([prompt])[0];
            results.Add(MetricResult.Of(MetricKind.ClipT, new PairedCosineScore(generatedClip, [.. generatedClip.Select(_ => text)]), resamples, seed));
        }
        results.Add(MetricResult.Of(MetricKind.KidClip, KernelDistanceScore.Kid(generatedClip, realClip), resamples, seed));
        results.Add(MetricResult.Of(MetricKind.MmdClip, new KernelDistanceScore(generatedClip, realClip), resamples, seed));
        return results;
    }
}
