namespace IlgpuDiffusion.CLora.Training;

/// <summary>
/// One optimizer step's report: the step (1-based), the loss terms averaged over its micro-batches (total, L_diff,
/// L_forget before λ, and λ·L_forget / L_diff) and the adapter learning rate it used.
/// </summary>
public readonly record struct TrainingProgress(int Step, float Loss, float Mse, float Regularizer, float Ratio, float LearningRate);

/// <summary>How a run reports, checkpoints and resumes.</summary>
public sealed record TrainingRun
{
    /// <summary>Called after every optimizer step.</summary>
    public Action<TrainingProgress>? Progress { get; init; }

    /// <summary>The checkpoint file (written every <see cref="TrainerOptions.CheckpointEvery"/> steps), or null.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Continue from <see cref="CheckpointPath"/> when it exists (an interrupted run with the same options).</summary>
    public bool Resume { get; init; }

    /// <summary>Stops the run between optimizer steps (the last checkpoint stays resumable).</summary>
    public CancellationToken Cancellation { get; init; }
}
