using IlgpuDiffusion.Evaluation.Metrics;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Evaluation;

/// <summary>
/// The percentile bootstrap against known answers: constant data gives a zero-width interval at the value; for a plain
/// mean (CLIP-T's form) the 95% interval approaches x̄ ± 1.96·s/√n; widths shrink as 1/√n; the interval holds the
/// point estimate and is reproducible from its seed.
/// </summary>
public sealed class BootstrapTests
{
    [Fact]
    public void ConstantDataGivesAZeroWidthIntervalAtTheValue()
    {
        float[] a = [0.3f, -1.2f, 2.0f], b = [1.5f, 0.25f, -0.5f];
        var score = new MeanCosineScore([a, a, a, a], [b, b, b]);

        var interval = Bootstrap.Interval(score);

        Assert.Equal(score.Value, interval.Lower);
        Assert.Equal(score.Value, interval.Upper);
        Assert.NotEqual(0, score.Value, 1e-3);
    }

    [Fact]
    public void MeanIntervalMatchesTheNormalApproximation()
    {
        // Pairs with per-pair cosines spread over (−1, 1): the score is a plain mean, whose sampling sd is s/√n.
        const int n = 400;
        var images = Vectors(n, 8, seed: 11);
        var texts = Vectors(n, 8, seed: 12);
        var score = new PairedCosineScore(images, texts);
        var cosines = images.Select((v, i) => new PairedCosineScore([v], [texts[i]]).Value).ToArray();
        double mean = cosines.Average();
        double sd = Math.Sqrt(cosines.Sum(c => (c - mean) * (c - mean)) / (n - 1));
        double halfWidth = 1.959964 * sd / Math.Sqrt(n);

        var interval = Bootstrap.Interval(score);

        Assert.Equal(mean, score.Value, 1e-12);
        Assert.True(interval.Contains(score.Value));
        Assert.InRange(interval.Width / (2 * halfWidth), 0.9, 1.1);
        Assert.InRange((interval.Lower + interval.Upper) / 2 - mean, -0.15 * halfWidth, 0.15 * halfWidth);
    }

    [Fact]
    public void WidthShrinksAsOneOverRootN()
    {
        // Off-centre clouds, so the mean cosine is not a degenerate U-statistic (whose spread would fall as 1/n).
        var small = Bootstrap.Interval(new MeanCosineScore(Vectors(16, 8, 21, offset: 1), Vectors(16, 8, 22, offset: 1)));
        var large = Bootstrap.Interval(new MeanCosineScore(Vectors(256, 8, 23, offset: 1), Vectors(256, 8, 24, offset: 1)));

        // 16× the images in each set: the interval should be about 4× narrower.
        Assert.InRange(small.Width / large.Width, 2.8, 5.6);
    }

    [Fact]
    public void KidIntervalContainsTheEstimateAndIsReproducible()
    {
        var xs = MetricFixtures.Rows("kid.safetensors", "set_a");
        var ys = MetricFixtures.Rows("kid.safetensors", "set_b");
        var score = KernelDistanceScore.Kid(xs, ys);

        var first = Bootstrap.Interval(score);
        var again = Bootstrap.Interval(score);
        var otherSeed = Bootstrap.Interval(score, seed: 7);

        Assert.True(first.Contains(score.Value), $"{score.Value} outside [{first.Lower}, {first.Upper}]");
        Assert.True(first.Width > 0);
        Assert.Equal(first, again);
        Assert.NotEqual(first, otherSeed);
        Assert.InRange(otherSeed.Width / first.Width, 0.8, 1.25);
    }

    [Fact]
    public void PercentileInterpolatesLikeNumPy()
    {
        // numpy.percentile([1..11 scrambled], [2.5, 97.5]) = 1.25 and 10.75.
        var interval = Bootstrap.Percentile([5, 3, 11, 1, 2, 9, 4, 8, 10, 7, 6]);

        Assert.Equal(1.25, interval.Lower, 1e-12);
        Assert.Equal(10.75, interval.Upper, 1e-12);
    }

    private static float[][] Vectors(int count, int dimension, int seed, float offset = 0)
    {
        var flat = Reference.RandomNormal(count * dimension, seed);
        return [.. Enumerable.Range(0, count).Select(i => flat.AsSpan(i * dimension, dimension).ToArray().Select(v => v + offset).ToArray())];
    }
}
