namespace IlgpuDiffusion.Evaluation.Metrics;

/// <summary>A two-sided confidence interval [<see cref="Lower"/>, <see cref="Upper"/>].</summary>
public readonly record struct ConfidenceInterval(double Lower, double Upper)
{
    public double Width => Upper - Lower;

    public bool Contains(double value) => Lower <= value && value <= Upper;
}
