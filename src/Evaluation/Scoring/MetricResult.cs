using IlgpuDiffusion.Evaluation.Metrics;

namespace IlgpuDiffusion.Evaluation.Scoring;

/// <summary>A metric's raw value (not scaled for reporting) and its bootstrap confidence interval.</summary>
public sealed record MetricResult(MetricKind Metric, double Value, ConfidenceInterval Interval)
{
    /// <summary>Scores <paramref name="score"/> and bootstraps its interval.</summary>
    public static MetricResult Of(MetricKind metric, IResamplableScore score, int resamples = Bootstrap.DefaultResamples, ulong seed = Bootstrap.DefaultSeed) =>
        new(metric, score.Value, Bootstrap.Interval(score, resamples, seed));
}
