namespace IlgpuDiffusion.Evaluation.Protocol;

/// <summary>Learns the next concept of a sequence into a method's concept library.</summary>
public interface IConceptLearner
{
    /// <summary>Learns <paramref name="concept"/> into the library in <paramref name="libraryFolder"/> (resuming an interrupted run).</summary>
    LearnedTask Learn(string libraryFolder, ConceptSpec concept, CancellationToken cancellation);
}

/// <summary>The parameters a task trained and the library stores for it.</summary>
public sealed record LearnedTask(long TrainedParameters, long StoredParameters);
