namespace IlgpuDiffusion.Evaluation.Metrics;

/// <summary>
/// The percentile bootstrap (Efron): each replicate redraws every set of a score with replacement (the same size as the
/// set) and re-evaluates the score; the interval at level 1 − α is the α/2 and 1 − α/2 quantiles of the replicates,
/// with linear interpolation between order statistics (NumPy's default <c>percentile</c> rule). The draws come from
/// <see cref="SplitMix64"/> with a fixed seed, so an interval is reproducible, and two scores whose sets have the
/// same sizes get the same index draws for the same seed (which keeps resamples paired across tasks).
/// </summary>
public static class Bootstrap
{
    /// <summary>1000 resamples, as the evaluation protocol reports.</summary>
    public const int DefaultResamples = 1000;

    /// <summary>The fixed seed of the protocol's intervals.</summary>
    public const ulong DefaultSeed = 20240705;

    /// <summary>95% intervals.</summary>
    public const double DefaultLevel = 0.95;

    /// <summary>The score on <paramref name="resamples"/> resamplings of its sets.</summary>
    public static double[] Replicates(IResamplableScore score, int resamples = DefaultResamples, ulong seed = DefaultSeed)
    {
        ArgumentNullException.ThrowIfNull(score);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(resamples);
        var rng = new SplitMix64(seed);
        var samples = score.SetSizes.Select(size => new int[size]).ToArray();
        var replicates = new double[resamples];
        for (int b = 0; b < resamples; b++)
        {
            foreach (var sample in samples)
                for (int k = 0; k < sample.Length; k++)
                    sample[k] = rng.NextIndex(sample.Length);
            replicates[b] = score.Evaluate(samples);
        }
        return replicates;
    }

    /// <summary>The percentile interval of <paramref name="replicates"/> at <paramref name="level"/> (e.g. 0.95).</summary>
    public static ConfidenceInterval Percentile(IReadOnlyList<double> replicates, double level = DefaultLevel)
    {
        ArgumentNullException.ThrowIfNull(replicates);
        if (replicates.Count == 0) throw new ArgumentException("the bootstrap has no replicates.", nameof(replicates));
        if (!(level > 0 && level < 1)) throw new ArgumentOutOfRangeException(nameof(level), level, "the level must lie in (0, 1).");
        var sorted = replicates.Order().ToArray();
        double alpha = (1 - level) / 2;
        return new ConfidenceInterval(Quantile(sorted, alpha), Quantile(sorted, 1 - alpha));
    }

    /// <summary>The percentile interval of <paramref name="score"/> from <see cref="Replicates"/>.</summary>
    public static ConfidenceInterval Interval(IResamplableScore score, int resamples = DefaultResamples, ulong seed = DefaultSeed, double level = DefaultLevel) =>
        Percentile(Replicates(score, resamples, seed), level);

    private static double Quantile(double[] sorted, double q)
    {
        double position = q * (sorted.Length - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }
}
