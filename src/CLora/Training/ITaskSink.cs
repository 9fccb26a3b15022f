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
/// The result of one task: the concept token with its trained row, the LoRA factors per adapted layer (c-lora and
/// lora; empty otherwise), the dense K/V weight changes (kv-finetune; empty otherwise), the settings it was trained
/// with, and how many parameters the optimizer updated.
/// </summary>
public sealed record TrainedTask(
    ConceptToken Token, float[] TokenRow, IReadOnlyList<TrainedFactors> Factors, IReadOnlyList<TrainedDenseDelta> DenseDeltas,
    TrainerOptions Options)
{
    /// <summary>The parameters the optimizer updated: the token row plus the factors or the full K/V weights.</summary>
    public long TrainedParameters => TokenRow.Length + Factors.Sum(f => (long)f.Down.Length + f.Up.Length) + DenseDeltas.Sum(d => (long)d.Delta.Length);
}

/// <summary>One layer's trained factors on the host: down [r, in] and up [out, r], row-major, ΔW = up·down.</summary>
public sealed record TrainedFactors(string Layer, int Rank, int InFeatures, int OutFeatures, float[] Down, float[] Up);

/// <summary>One layer's full weight change of a kv-finetune task on the host: ΔW = W_trained − W_start [out, in], row-major fp32.</summary>
public sealed record TrainedDenseDelta(string Layer, int InFeatures, int OutFeatures, float[] Delta);

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
