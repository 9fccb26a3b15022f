using IlgpuDiffusion.Evaluation.Metrics;
using IlgpuDiffusion.Evaluation.Protocol;
using IlgpuDiffusion.Evaluation.Scoring;

namespace IlgpuDiffusion.Evaluation.Reporting;

/// <summary>The score of concept <see cref="Concept"/> (0-based index <see cref="ConceptIndex"/>) after task <see cref="Task"/> (0-based).</summary>
public sealed record CellScore(string Method, int Task, int ConceptIndex, string Concept, MetricKind Metric, double Value, ConfidenceInterval Interval);

/// <summary>A summary value with its bootstrap interval.</summary>
public sealed record SummaryValue(double Value, ConfidenceInterval Interval);

/// <summary>A method's A_T, P_T, F_T and F*_T for one metric after its last scored task, with 95% intervals; and A_t after every task.</summary>
public sealed record MethodSummary(string Method, MetricKind Metric, int Tasks, SummaryValue FinalAverage, SummaryValue Plasticity,
    SummaryValue? Forgetting, SummaryValue? MaxForgetting, IReadOnlyList<double> AverageAfterTask);

/// <summary>
/// Every score of an evaluation folder, computed from the stored embeddings: the matrix M[task, concept] per method and
/// metric, with 95% percentile-bootstrap intervals (1000 resamples of the generated and the real images; the resample
/// of concept i uses seed <see cref="Bootstrap.DefaultSeed"/> + i at every task, so the draws are paired across tasks
/// like the images), and the forgetting summaries, whose intervals come from the summaries of the resampled matrices.
/// </summary>
public sealed class ScoreBook
{
    private ScoreBook(IReadOnlyList<CellScore> cells, IReadOnlyList<MethodSummary> summaries)
    {
        Cells = cells;
        Summaries = summaries;
    }

    public IReadOnlyList<CellScore> Cells { get; }

    public IReadOnlyList<MethodSummary> Summaries { get; }

    /// <summary>Scores the completed tasks of every method in <paramref name="states"/>.</summary>
    public static ScoreBook Compute(EvaluationFolder folder, IReadOnlyList<MethodState> states)
    {
        var cells = new List<CellScore>();
        var summaries = new List<MethodSummary>();
        foreach (var state in states)
        {
            int tasks = state.Tasks.TakeWhile(t => t.Embedded).Count();
            if (tasks == 0) continue;
            var replicates = new Dictionary<MetricKind, double[][][]>();
            for (int t = 0; t < tasks; t++)
                for (int i = 0; i <= t; i++)
                    foreach (var (metric, score) in Scores(folder, state.Method, t, state.Concepts[i][0]))
                    {
                        ulong seed = Bootstrap.DefaultSeed + (ulong)i;
                        var draws = Bootstrap.Replicates(score, seed: seed);
                        cells.Add(new CellScore(state.Method, t, i, state.Concepts[i][0], metric, score.Value, Bootstrap.Percentile(draws)));
                        if (!replicates.TryGetValue(metric, out var byTask))
                            replicates[metric] = byTask = [.. Enumerable.Range(0, tasks).Select(r => new double[r + 1][])];
                        byTask[t][i] = draws;
                    }
            foreach (var metric in MetricKind.All.Where(replicates.ContainsKey))
                summaries.Add(Summarise(state.Method, metric, cells, replicates[metric], tasks));
        }
        return new ScoreBook(cells, summaries);
    }

    private static MethodSummary Summarise(string method, MetricKind metric, List<CellScore> cells, double[][][] replicates, int tasks)
    {
        var matrix = Enumerable.Range(0, tasks).Select(t => (IReadOnlyList<double>)Enumerable.Range(0, t + 1)
            .Select(i => cells.First(c => c.Method == method && c.Metric == metric && c.Task == t && c.ConceptIndex == i).Value).ToArray()).ToList();
        var point = ForgettingSummary.Compute(matrix, metric.Direction);
        int resamples = replicates[0][0].Length;
        var draws = Enumerable.Range(0, resamples).Select(b => ForgettingSummary.Compute(
            [.. replicates.Select(row => (IReadOnlyList<double>)row.Select(cell => cell[b]).ToArray())], metric.Direction)).ToList();
        SummaryValue Of(double value, Func<ForgettingSummary, double> pick) => new(value, Bootstrap.Percentile([.. draws.Select(pick)]));
        return new MethodSummary(method, metric, tasks,
            Of(point.FinalAverage, s => s.FinalAverage), Of(point.Plasticity, s => s.Plasticity),
            point.Forgetting is { } f ? Of(f, s => s.Forgetting!.Value) : null,
            point.MaxForgetting is { } fm ? Of(fm, s => s.MaxForgetting!.Value) : null,
            [.. ForgettingSummary.PerTask(matrix, metric.Direction).Select(s => s.FinalAverage)]);
    }

    /// <summary>The protocol's metrics of one concept after one task: CLIP-I, DINO-I (when embedded), CLIP-T and KID-CLIP.</summary>
    private static IEnumerable<(MetricKind, IResamplableScore)> Scores(EvaluationFolder folder, string method, int task, string concept)
    {
        var real = EmbeddingFile.Load(folder.RealEmbeddings(concept));
        var generated = EmbeddingFile.Load(folder.TaskEmbeddings(method, task, concept));
        yield return (MetricKind.ClipI, new MeanCosineScore(generated["clip_fidelity"], real["clip"]));
        if (generated.TryGetValue("dino_fidelity", out var dino) && real.TryGetValue("dino", out var realDino))
            yield return (MetricKind.DinoI, new MeanCosineScore(dino, realDino));
        yield return (MetricKind.ClipT, new PairedCosineScore(generated["clip_context"], generated["text_context"]));
        yield return (MetricKind.KidClip, KernelDistanceScore.Kid(generated["clip_fidelity"], real["clip"]));
    }
}
