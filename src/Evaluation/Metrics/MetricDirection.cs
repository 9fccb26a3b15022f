namespace IlgpuDiffusion.Evaluation.Metrics;

/// <summary>Which way a score improves: CLIP-I, DINO-I and CLIP-T are higher-better, KID is lower-better.</summary>
public enum MetricDirection
{
    HigherIsBetter,
    LowerIsBetter,
}
