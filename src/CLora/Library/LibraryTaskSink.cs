using System.Diagnostics;
using IlgpuDiffusion.CLora.Training;

namespace IlgpuDiffusion.CLora.Library;

/// <summary>
/// Saves each finished task into a <see cref="ConceptLibrary"/>: its factors (<see cref="ConceptLibrary.AddTask"/>) or
/// its dense K/V deltas (kv-finetune, <see cref="ConceptLibrary.AddDenseTask"/>), its token row and a
/// <see cref="ConceptRecord"/> built from the trainer's options. The wall time counts from the sink's creation.
/// </summary>
public sealed class LibraryTaskSink(ConceptLibrary library, string name, string? classWord) : ITaskSink
{
    private readonly Stopwatch clock = Stopwatch.StartNew();

    /// <summary>The concept the last <see cref="Complete"/> added, or null before.</summary>
    public LibraryConcept? Added { get; private set; }

    /// <inheritdoc/>
    public void Complete(TrainedTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        var options = task.Options;
        var record = new ConceptRecord
        {
            Name = name,
            ClassWord = classWord,
            Rank = task.Factors.Count == 0 ? 0 : options.Rank,
            Training = new TrainingSettings
            {
                Steps = options.Steps,
                BatchSize = options.BatchSize,
                LearningRate = options.LearningRate,
                TokenLearningRate = options.TokenLearningRate,
                Seed = unchecked((long)options.Seed),
                Resolution = options.Resolution,
            },
            TrainedParameters = task.TrainedParameters,
            WallTime = clock.Elapsed,
            Created = DateTimeOffset.UtcNow,
        };
        if (library.Settings.Method == LibraryMethod.KvFinetune)
        {
            var deltas = task.DenseDeltas.ToDictionary(d => d.Layer, d => (d.Delta, new[] { d.OutFeatures, d.InFeatures }), StringComparer.Ordinal);
            Added = library.AddDenseTask(record, deltas, task.TokenRow);
            return;
        }
        var factors = task.Factors.ToDictionary(
            f => f.Layer, f => (f.Down, new[] { f.Rank, f.InFeatures }, f.Up, new[] { f.OutFeatures, f.Rank }), StringComparer.Ordinal);
        Added = library.AddTask(record, factors, task.TokenRow);
    }
}
