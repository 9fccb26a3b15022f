namespace IlgpuDiffusion.Evaluation.Metrics;

/// <summary>
/// The continual-learning summary of a score matrix M[t][i] (the score of concept i after task t, for i ≤ t; tasks and
/// concepts counted from 0, T tasks in all), with forgetting signed so that a positive value always means worse:
/// <list type="bullet">
/// <item><see cref="FinalAverage"/> A_T = mean_i M[T−1][i], over every concept after the last task;</item>
/// <item><see cref="Plasticity"/> P_T = mean_i M[i][i], each concept right after it was learned;</item>
/// <item><see cref="Forgetting"/> F_T = mean over i &lt; T−1 of the score lost since M[i][i];</item>
/// <item><see cref="MaxForgetting"/> F*_T = the same against the best of M[i..T−2][i] (Chaudhry et al. 2018: the best
/// the concept reached before the last task).</item>
/// </list>
/// "Lost" is M[i][i] − M[T−1][i] for a higher-better score and M[T−1][i] − M[i][i] for a lower-better one (KID).
/// With one task there is nothing to forget: both forgetting values are null.
/// </summary>
public sealed record ForgettingSummary(int Tasks, double FinalAverage, double Plasticity, double? Forgetting, double? MaxForgetting)
{
    /// <summary>The summary after the last row of <paramref name="matrix"/> (row t has t + 1 finite entries).</summary>
    public static ForgettingSummary Compute(IReadOnlyList<IReadOnlyList<double>> matrix, MetricDirection direction)
    {
        Check(matrix);
        int tasks = matrix.Count;
        var last = matrix[tasks - 1];
        double finalAverage = last.Average();
        double plasticity = Enumerable.Range(0, tasks).Average(i => matrix[i][i]);
        if (tasks == 1) return new ForgettingSummary(tasks, finalAverage, plasticity, null, null);

        double sign = direction == MetricDirection.HigherIsBetter ? 1 : -1;
        double forgetting = 0, maxForgetting = 0;
        for (int i = 0; i < tasks - 1; i++)
        {
            // In "sign" units a larger value is better, so the best is the maximum and the loss is best − final.
            double best = Enumerable.Range(i, tasks - 1 - i).Max(t => sign * matrix[t][i]);
            forgetting += sign * matrix[i][i] - sign * last[i];
            maxForgetting += best - sign * last[i];
        }
        return new ForgettingSummary(tasks, finalAverage, plasticity, forgetting / (tasks - 1), maxForgetting / (tasks - 1));
    }

    /// <summary>The summary after each task: element t summarises rows 0..t.</summary>
    public static IReadOnlyList<ForgettingSummary> PerTask(IReadOnlyList<IReadOnlyList<double>> matrix, MetricDirection direction) =>
        [.. Enumerable.Range(1, matrix.Count).Select(t => Compute([.. matrix.Take(t)], direction))];

    private static void Check(IReadOnlyList<IReadOnlyList<double>> matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        if (matrix.Count == 0) throw new ArgumentException("the score matrix has no tasks.", nameof(matrix));
        for (int t = 0; t < matrix.Count; t++)
        {
            if (matrix[t].Count != t + 1)
                throw new ArgumentException($"score matrix row {t} has {matrix[t].Count} scores, expected {t + 1} (concepts 0..{t}).", nameof(matrix));
            if (matrix[t].Any(v => !double.IsFinite(v)))
                throw new ArgumentException($"score matrix row {t} holds a non-finite score.", nameof(matrix));
        }
    }
}
