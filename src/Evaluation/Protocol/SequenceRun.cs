namespace IlgpuDiffusion.Evaluation.Protocol;

/// <summary>How a <see cref="SequenceEvaluation"/> run reports and can be stopped; every member is optional.</summary>
public sealed record SequenceRun
{
    /// <summary>Receives one line per stage (learned, sampled, embedded, skipped).</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Stops after this many tasks are complete (the rest is left for a later run); null runs them all.</summary>
    public int? StopAfterTasks { get; init; }

    /// <summary>Stops between stages and training steps; a later run resumes.</summary>
    public CancellationToken Cancellation { get; init; }
}
