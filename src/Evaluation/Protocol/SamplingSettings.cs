namespace IlgpuDiffusion.Evaluation.Protocol;

/// <summary>How the evaluation samples: scheduler (null: the model's), denoising steps, guidance and image size.</summary>
public sealed record SamplingSettings
{
    public string? Scheduler { get; init; }

    public int Steps { get; init; } = 50;

    public double Guidance { get; init; } = 7.5;

    /// <summary>Image width and height in pixels (a multiple of 8).</summary>
    public int Resolution { get; init; } = 512;

    /// <summary>The base seed: image k of concept i uses Seed + 1000·i + k (fidelity) or + 500 + k (context), at every task.</summary>
    public long Seed { get; init; } = 1000;

    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        if (Steps < 1) throw new ArgumentException($"sampling steps must be at least 1, got {Steps}.", nameof(Steps));
        if (!double.IsFinite(Guidance)) throw new ArgumentException($"guidance {Guidance} is not a finite number.", nameof(Guidance));
        if (Resolution < 8 || Resolution % 8 != 0) throw new ArgumentException($"sampling resolution must be a positive multiple of 8, got {Resolution}.", nameof(Resolution));
    }
}
