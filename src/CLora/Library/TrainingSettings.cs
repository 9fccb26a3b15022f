namespace IlgpuDiffusion.CLora.Library;

/// <summary>
/// How one concept was trained, as the trainer ran it; stored with the concept in <c>library.json</c> so a run can be
/// reported and reproduced. Learning rates are the optimizer's base rates for the adapter (or dense delta) and for the
/// concept's token row; <see cref="Resolution"/> is the training image side in pixels.
/// </summary>
public sealed record TrainingSettings
{
    public required int Steps { get; init; }

    public required int BatchSize { get; init; }

    public required double LearningRate { get; init; }

    public required double TokenLearningRate { get; init; }

    public required long Seed { get; init; }

    public required int Resolution { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting of <paramref name="concept"/> that is out of range.</summary>
    internal void Validate(string concept)
    {
        if (Steps < 0) throw new ArgumentException($"concept '{concept}': steps {Steps} is negative.");
        if (BatchSize < 1) throw new ArgumentException($"concept '{concept}': batch size {BatchSize} must be ≥ 1.");
        if (Resolution < 1) throw new ArgumentException($"concept '{concept}': resolution {Resolution} must be ≥ 1.");
        if (!double.IsFinite(LearningRate) || LearningRate < 0 || !double.IsFinite(TokenLearningRate) || TokenLearningRate < 0)
            throw new ArgumentException($"concept '{concept}': learning rates {LearningRate} and {TokenLearningRate} must be finite and ≥ 0.");
    }
}
