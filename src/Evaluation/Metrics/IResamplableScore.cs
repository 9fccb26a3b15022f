namespace IlgpuDiffusion.Evaluation.Metrics;

/// <summary>
/// A score of one or more embedding sets that can be re-evaluated on a resampling of each set (indices drawn with
/// replacement), which is what the bootstrap needs. Implementations precompute their pairwise tables once.
/// </summary>
public interface IResamplableScore
{
    /// <summary>The number of items in each set, in the order <see cref="Evaluate"/> takes their samples.</summary>
    IReadOnlyList<int> SetSizes { get; }

    /// <summary>The point estimate on the full sets.</summary>
    double Value { get; }

    /// <summary>The score on the given samples: one index array per set (of that set's size, values in range).</summary>
    double Evaluate(IReadOnlyList<int[]> samples);
}
