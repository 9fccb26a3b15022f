using IlgpuDiffusion.Evaluation.Metrics;

namespace IlgpuDiffusion.Evaluation.Scoring;

/// <summary>
/// A reported metric: its <see cref="Name"/> in files (e.g. <c>kid-clip</c>), its <see cref="Label"/> in tables,
/// which way it improves, and the factor its stored raw value is multiplied by for reporting (KID ×10³).
/// </summary>
public sealed record MetricKind(string Name, string Label, MetricDirection Direction, double ReportScale)
{
    public static MetricKind ClipI { get; } = new("clip-i", "CLIP-I", MetricDirection.HigherIsBetter, 1);

    public static MetricKind DinoI { get; } = new("dino-i", "DINO-I", MetricDirection.HigherIsBetter, 1);

    public static MetricKind ClipT { get; } = new("clip-t", "CLIP-T", MetricDirection.HigherIsBetter, 1);

    /// <summary>KID on L2-normalised CLIP image embeddings, reported ×10³.</summary>
    public static MetricKind KidClip { get; } = new("kid-clip", "KID-CLIP ×10³", MetricDirection.LowerIsBetter, 1000);

    /// <summary>Unbiased MMD² (cubic kernel) on the raw CLIP image embeddings, reported ×10³.</summary>
    public static MetricKind MmdClip { get; } = new("mmd-clip", "MMD²-CLIP ×10³", MetricDirection.LowerIsBetter, 1000);

    /// <summary>Every metric, in report order.</summary>
    public static IReadOnlyList<MetricKind> All { get; } = [ClipI, DinoI, ClipT, KidClip, MmdClip];

    /// <summary>The metric named <paramref name="name"/>.</summary>
    public static MetricKind Parse(string name) => All.FirstOrDefault(m => m.Name == name)
        ?? throw new ArgumentException($"unknown metric '{name}'; expected one of {string.Join(", ", All.Select(m => m.Name))}.", nameof(name));
}
