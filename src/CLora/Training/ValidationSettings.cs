namespace IlgpuDiffusion.CLora.Training;

/// <summary>
/// Validation images during training: every <see cref="Every"/> optimizer steps one image of <see cref="Prompt"/> is
/// generated with the current adapters and token (<see cref="Steps"/> sampling steps, the model's scheduler, guidance
/// <see cref="Guidance"/>, the fixed <see cref="Seed"/> so the images of a run are comparable) at the training
/// resolution, and written to <c>LIB/validation/NAME-step-NNNNNN.png</c>.
/// </summary>
public sealed record ValidationSettings
{
    public required int Every { get; init; }

    /// <summary>The prompt; name the concept as <c>&lt;name&gt;</c>.</summary>
    public required string Prompt { get; init; }

    public int Steps { get; init; } = 25;

    public double Guidance { get; init; } = 7.5;

    public long Seed { get; init; }

    /// <summary>Refuses settings that cannot run, naming the setting.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (Every < 1) throw new ArgumentException($"validation every {Every} steps: must be ≥ 1.", nameof(Every));
        if (string.IsNullOrWhiteSpace(Prompt)) throw new ArgumentException("the validation prompt is blank.", nameof(Prompt));
        if (Steps < 1) throw new ArgumentException($"validation sampling steps {Steps} must be ≥ 1.", nameof(Steps));
    }
}
