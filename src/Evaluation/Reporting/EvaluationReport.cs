using System.Globalization;
using System.Text;
using System.Text.Json;
using IlgpuDiffusion.Evaluation.Protocol;

namespace IlgpuDiffusion.Evaluation.Reporting;

/// <summary>
/// Writes an evaluation folder's outputs from every method's state found in it: manifest.json (per method: model,
/// settings, and every image with its prompt, seed and sampler), scores.csv and scores.json (every cell of every score
/// matrix with its interval, the summaries, parameter counts and wall times per task), and report.html
/// (<see cref="HtmlReport"/>). All are written atomically.
/// </summary>
public static class EvaluationReport
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void Write(EvaluationFolder folder)
    {
        var states = Directory.Exists(folder.StateFolder)
            ? Directory.GetFiles(folder.StateFolder, "*.json").Order(StringComparer.Ordinal).Select(p => MethodState.Load(p)!).ToList()
            : [];
        var book = ScoreBook.Compute(folder, states);
        AtomicText.Write(folder.Manifest, JsonSerializer.Serialize(new
        {
            methods = states.ToDictionary(s => s.Method, s => new
            {
                s.Model,
                s.Method,
                s.Settings,
                concepts = s.Concepts.Select(c => new { name = c[0], @class = c[1] }),
                images = s.Tasks.SelectMany((t, i) => t.Images.Select(image => new { task = i + 1, image })),
            }),
        }, Json));
        AtomicText.Write(folder.ScoresCsv, Csv(book, states));
        AtomicText.Write(folder.ScoresJson, JsonSerializer.Serialize(new
        {
            scale_note = "values are raw: KID-CLIP is not multiplied by 10^3 here",
            cells = book.Cells.Select(c => new { c.Method, task = c.Task + 1, c.Concept, metric = c.Metric.Name, c.Value, ci95 = Pair(c.Interval) }),
            summaries = book.Summaries.Select(s => new
            {
                s.Method,
                metric = s.Metric.Name,
                s.Tasks,
                final_average = Value(s.FinalAverage),
                plasticity = Value(s.Plasticity),
                forgetting = s.Forgetting is { } f ? Value(f) : null,
                max_forgetting = s.MaxForgetting is { } m ? Value(m) : null,
                s.AverageAfterTask,
            }),
            tasks = states.SelectMany(s => s.Tasks.Select((t, i) => new
            {
                s.Method,
                task = i + 1,
                t.Concept,
                t.TrainedParameters,
                t.StoredParameters,
                t.TrainSeconds,
                t.SampleSeconds,
                t.ScoreSeconds,
                t.WallSeconds,
                complete = t.Embedded,
            })),
        }, Json));
        AtomicText.Write(folder.Report, HtmlReport.Render(book, states));
    }

    private static object Value(SummaryValue v) => new { value = v.Value, ci95 = Pair(v.Interval) };

    private static double[] Pair(Metrics.ConfidenceInterval interval) => [interval.Lower, interval.Upper];

    private static string Csv(ScoreBook book, IReadOnlyList<MethodState> states)
    {
        var csv = new StringBuilder("kind,method,task,concept,metric,value,ci_low,ci_high\n");
        void Row(string kind, string method, object task, string concept, string metric, double value, double? low = null, double? high = null) =>
            csv.Append(CultureInfo.InvariantCulture, $"{kind},{method},{task},{concept},{metric},{value:R},{low:R},{high:R}\n");
        foreach (var c in book.Cells)
            Row("cell", c.Method, c.Task + 1, c.Concept, c.Metric.Name, c.Value, c.Interval.Lower, c.Interval.Upper);
        foreach (var s in book.Summaries)
        {
            Row("final_average", s.Method, s.Tasks, "", s.Metric.Name, s.FinalAverage.Value, s.FinalAverage.Interval.Lower, s.FinalAverage.Interval.Upper);
            Row("plasticity", s.Method, s.Tasks, "", s.Metric.Name, s.Plasticity.Value, s.Plasticity.Interval.Lower, s.Plasticity.Interval.Upper);
            if (s.Forgetting is { } f) Row("forgetting", s.Method, s.Tasks, "", s.Metric.Name, f.Value, f.Interval.Lower, f.Interval.Upper);
            if (s.MaxForgetting is { } m) Row("max_forgetting", s.Method, s.Tasks, "", s.Metric.Name, m.Value, m.Interval.Lower, m.Interval.Upper);
        }
        foreach (var s in states)
            foreach (var (t, i) in s.Tasks.Select((t, i) => (t, i)).Where(p => p.t.Learned))
            {
                Row("trained_parameters", s.Method, i + 1, t.Concept, "", t.TrainedParameters);
                Row("stored_parameters", s.Method, i + 1, t.Concept, "", t.StoredParameters);
                Row("wall_seconds", s.Method, i + 1, t.Concept, "", t.WallSeconds);
            }
        return csv.ToString();
    }
}
