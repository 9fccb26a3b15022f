namespace IlgpuDiffusion.CLora.Training;

/// <summary>
/// Where a finished task goes (the concept library, or memory in tests). The trainer calls <see cref="Complete"/>
/// once per task, before it folds the adapters; the sink persists what it needs and performs the past-delta update
/// (P += up·down per layer) for the next task.
/// </summary>
public interface ITaskSink
{
    /// <summary>Receives the finished task.</summary>
    void Complete(TrainedTask task);
}

/// <summary>
/// The result of one task: the concept token with its trained row, the LoRA factors per adapted layer (empty for
/// kv-finetune and token-only) and the settings it was trained with.
/// </summary>
public sealed record TrainedTask(ConceptToken Token, float[] TokenRow, IReadOnlyList<TrainedFactors> Factors, TrainerOptions Options);

/// <summary>One layer's trained factors on the host: down [r, in] and up [out, r], row-major, ΔW = up·down.</summary>
public sealed record TrainedFactors(string Layer, int Rank, int InFeatures, int OutFeatures, float[] Down, float[] Up);

/// <summary>A sink that keeps every task in memory (tests, and callers that persist elsewhere).</summary>
public sealed class InMemoryTaskSink : ITaskSink
{
    private readonly List<TrainedTask> tasks = [];

    /// <summary>The tasks received, in order.</summary>
    public IReadOnlyList<TrainedTask> Tasks => tasks;

    public void Complete(TrainedTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        tasks.Add(task);
    }
}
