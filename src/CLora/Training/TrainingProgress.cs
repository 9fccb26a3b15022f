namespace IlgpuDiffusion.CLora.Training;

/// <summary>
/// One optimizer step's report: the step (1-based), the loss terms averaged over its micro-batches (total, L_diff,
/// L_forget before λ, λ·L_forget / L_diff, and the class images' MSE of prior preservation before its weight, 0
/// without class images) and the adapter learning rate it used. Total = Mse + λ·Regularizer + w·ClassMse.
/// </summary>
public readonly record struct TrainingProgress(int Step, float Loss, float Mse, float Regularizer, float Ratio, float ClassMse, float LearningRate);

/// <summary>How a run reports, checkpoints and resumes.</summary>
public sealed record TrainingRun
{
    /// <summary>Called after every optimizer step.</summary>
    public Action<TrainingProgress>? Progress { get; init; }

    /// <summary>
    /// Where the checkpoint after a given optimizer step is written (every <see cref="TrainerOptions.CheckpointEvery"/>
    /// steps), or null for no checkpoints.
    /// </summary>
    public Func<int, string>? CheckpointPath { get; init; }

    /// <summary>A checkpoint of an interrupted run with the same options to continue from, or null to start at step 0.</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>
    /// Called after an optimizer step's checkpoint (if any) with the step number (1-based) while the adapters are
    /// still attached, e.g. to sample validation images with the current weights.
    /// </summary>
    public Action<int>? AfterStep { get; init; }

    /// <summary>Stops the run between optimizer steps (the last checkpoint stays resumable).</summary>
    public CancellationToken Cancellation { get; init; }
}
