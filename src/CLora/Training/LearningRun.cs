namespace IlgpuDiffusion.CLora.Training;

/// <summary>How <see cref="ConceptTeacher.Learn"/> reports and can be stopped; every member is optional.</summary>
public sealed record LearningRun
{
    /// <summary>Called after every optimizer step.</summary>
    public Action<TrainingProgress>? Progress { get; init; }

    /// <summary>Receives one-line notes: a resume, a validation image written.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Validation images every N steps, or null for none.</summary>
    public ValidationSettings? Validation { get; init; }

    /// <summary>Stops the run between optimizer steps; a later call resumes from the last checkpoint.</summary>
    public CancellationToken Cancellation { get; init; }
}
