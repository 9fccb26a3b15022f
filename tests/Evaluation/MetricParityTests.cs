using IlgpuDiffusion.Evaluation.Metrics;

namespace IlgpuDiffusion.Tests.Evaluation;

/// <summary>
/// The metrics against the evaluation fixtures: unbiased MMD² (= KID) and the mean cosine on kid.safetensors' sets
/// (reference values from clean-fid / torchmetrics / float64 NumPy), CLIP-I, DINO-I and CLIP-T on eval.safetensors'
/// stored transformers embeddings.
/// </summary>
public sealed class MetricParityTests
{
    [Theory]
    [InlineData("a_vs_b", "set_a", "set_b")]
    [InlineData("a_vs_c", "set_a", "set_c")]
    [InlineData("a_vs_a", "set_a", "set_a")]
    [InlineData("b_vs_c", "set_b", "set_c")]
    public void KernelDistanceAndMeanCosineMatchTheReference(string pair, string x, string y)
    {
        var expected = MetricFixtures.Json("kid.json").GetProperty("pairs").GetProperty(pair);
        var xs = MetricFixtures.Rows("kid.safetensors", x);
        var ys = MetricFixtures.Rows("kid.safetensors", y);

        double mmd = new KernelDistanceScore(xs, ys).Value;
        double cosine = new MeanCosineScore(xs, ys).Value;

        AssertRelative(expected.GetProperty("mmd2_unbiased").GetDouble(), mmd, 1e-12);
        AssertRelative(expected.GetProperty("mean_cosine").GetDouble(), cosine, 1e-12);
    }

    [Fact]
    public void KidOnNormalisedEmbeddingsIsTheEstimatorOnTheUnitVectors()
    {
        var xs = MetricFixtures.Rows("kid.safetensors", "set_a");
        var ys = MetricFixtures.Rows("kid.safetensors", "set_b");
        // Independent route: normalise in float64 by hand, then the kernel sums written out directly.
        var nx = xs.Select(Unit).ToArray();
        var ny = ys.Select(Unit).ToArray();
        double expected = Mean(nx, nx, offDiagonal: true) + Mean(ny, ny, offDiagonal: true) - 2 * Mean(nx, ny, offDiagonal: false);

        double kid = KernelDistanceScore.Kid(xs, ys).Value;

        AssertRelative(expected, kid, 1e-12);
        Assert.NotEqual(new KernelDistanceScore(xs, ys).Value, kid, 1e-3);
    }

    [Fact]
    public void ClipIDinoIAndClipTMatchEvalJson()
    {
        var scores = MetricFixtures.Json("eval.json").GetProperty("scores");
        var clip = MetricFixtures.Rows("eval.safetensors", "clip_image_embeds");
        var dino = MetricFixtures.Rows("eval.safetensors", "dino_cls");
        var texts = MetricFixtures.Rows("eval.safetensors", "clip_text_embeds");

        double clipI = new MeanCosineScore(clip[..2], clip[2..]).Value;
        double dinoI = new MeanCosineScore(dino[..2], dino[2..]).Value;
        double clipTMatched = new PairedCosineScore(clip, [.. Enumerable.Range(0, 4).Select(i => texts[i % 3])]).Value;
        double clipTAll = clip.SelectMany(image => texts.Select(text => new PairedCosineScore([image], [text]).Value)).Average();

        Assert.Equal(scores.GetProperty("clip_i_mean_gen_vs_ref").GetDouble(), clipI, 1e-12);
        Assert.Equal(scores.GetProperty("dino_i_mean_gen_vs_ref").GetDouble(), dinoI, 1e-12);
        Assert.Equal(scores.GetProperty("clip_t_mean_matched").GetDouble(), clipTMatched, 1e-12);
        Assert.Equal(scores.GetProperty("clip_t_mean_all").GetDouble(), clipTAll, 1e-12);
    }

    [Fact]
    public void KidNeedsTwoEmbeddingsPerSet()
    {
        var xs = MetricFixtures.Rows("kid.safetensors", "set_a");

        var error = Assert.Throws<ArgumentException>(() => KernelDistanceScore.Kid(xs[..1], xs));
        Assert.Contains("generated set: needs at least 2 embeddings, got 1", error.Message);
        error = Assert.Throws<ArgumentException>(() => new KernelDistanceScore(xs, xs[..1]));
        Assert.Contains("second set: needs at least 2 embeddings, got 1", error.Message);
    }

    [Fact]
    public void MismatchedDimensionsAreNamed()
    {
        var xs = MetricFixtures.Rows("kid.safetensors", "set_a");
        var error = Assert.Throws<ArgumentException>(() => new MeanCosineScore(xs, [new float[3], new float[3]]));
        Assert.Contains("real set: embedding 0 has length 3, expected 16", error.Message);
    }

    private static void AssertRelative(double expected, double actual, double tolerance) =>
        Assert.True(Math.Abs(actual - expected) <= tolerance * Math.Abs(expected), $"expected {expected:R}, got {actual:R}");

    private static double[] Unit(float[] v)
    {
        double norm = Math.Sqrt(v.Sum(x => (double)x * x));
        return [.. v.Select(x => x / norm)];
    }

    private static double Mean(double[][] x, double[][] y, bool offDiagonal)
    {
        double sum = 0;
        long count = 0;
        for (int i = 0; i < x.Length; i++)
            for (int j = 0; j < y.Length; j++)
            {
                if (offDiagonal && i == j) continue;
                double dot = 0;
                for (int k = 0; k < x[i].Length; k++) dot += x[i][k] * y[j][k];
                sum += Math.Pow(dot / x[i].Length + 1, 3);
                count++;
            }
        return sum / count;
    }
}
