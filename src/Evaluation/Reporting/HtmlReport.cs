using System.Globalization;
using System.Xml.Linq;
using IlgpuDiffusion.Evaluation.Protocol;
using IlgpuDiffusion.Evaluation.Scoring;

namespace IlgpuDiffusion.Evaluation.Reporting;

/// <summary>
/// The HTML report of an evaluation folder, built as XHTML (so it is well-formed by construction) and opened from the
/// folder with no server or network: the summary table (A_T, P_T, F_T, F*_T with 95% intervals per method and metric,
/// parameter counts and wall time per task), one inline-SVG line chart per metric (A_t after each task, one line per
/// method), each method's score matrices, and its sample grid (concepts × tasks, the first fidelity image of each cell,
/// linked by relative path to the full folder of images).
/// </summary>
public static class HtmlReport
{
    private static readonly XNamespace X = "http://www.w3.org/1999/xhtml";
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private static readonly string[] Colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

    private const string Style = """
        body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
        table { border-collapse: collapse; margin: 1em 0; }
        th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
        th { background: #f4f4f4; }
        td.name, th.name { text-align: left; }
        .ci { color: #777; font-size: 85%; }
        .charts { display: flex; flex-wrap: wrap; gap: 1.5em; }
        img.sample { width: 128px; height: 128px; image-rendering: pixelated; }
        """;

    public static string Render(ScoreBook book, IReadOnlyList<MethodState> states)
    {
        var body = new XElement(X + "body",
            E("h1", "Continual customization: forgetting report"),
            E("p", "A_T: mean score of every concept after the last task. P_T: mean score of each concept right after it was learned. " +
                   "F_T: mean score lost since then (concepts before the last); F*_T: lost since the best score it reached. " +
                   "Positive forgetting is always worse (for KID, lower is better). Brackets: 95% percentile-bootstrap intervals over images " +
                   "(1000 resamples, fixed seed). KID-CLIP is shown ×10³."),
            E("h2", "Summary"), SummaryTable(book),
            E("h2", "Parameters and time per task"), TaskTable(states),
            E("h2", "Average score after each task"), Charts(book),
            states.Select(state => MethodSection(book, state)));
        var html = new XElement(X + "html", new XAttribute("lang", "en"),
            new XElement(X + "head",
                new XElement(X + "meta", new XAttribute("charset", "utf-8")),
                E("title", "Continual customization report"),
                E("style", Style)),
            body);
        return "<!DOCTYPE html>\n" + html.ToString(SaveOptions.None) + "\n";
    }

    private static XElement SummaryTable(ScoreBook book) => E("table",
        E("tr", Th("metric"), Th("method"), Th("tasks"), Th("A_T"), Th("P_T"), Th("F_T"), Th("F*_T")),
        book.Summaries.OrderBy(s => MetricOrder(s.Metric)).Select(s => E("tr",
            Td(s.Metric.Label), Td(s.Method), E("td", s.Tasks.ToString(CultureInfo.InvariantCulture)),
            Cell(s.FinalAverage, s.Metric), Cell(s.Plasticity, s.Metric), Cell(s.Forgetting, s.Metric), Cell(s.MaxForgetting, s.Metric))));

    private static XElement TaskTable(IReadOnlyList<MethodState> states) => E("table",
        E("tr", Th("method"), Th("task"), Th("concept"), Th("trained parameters"), Th("stored parameters"), Th("train s"), Th("sample s"), Th("score s"), Th("wall s")),
        states.SelectMany(s => s.Tasks.Select((t, i) => E("tr",
            Td(s.Method), E("td", (i + 1).ToString(CultureInfo.InvariantCulture)), Td(t.Concept),
            E("td", t.TrainedParameters.ToString("N0", CultureInfo.InvariantCulture)), E("td", t.StoredParameters.ToString("N0", CultureInfo.InvariantCulture)),
            E("td", Fixed(t.TrainSeconds, 1)), E("td", Fixed(t.SampleSeconds, 1)), E("td", Fixed(t.ScoreSeconds, 1)), E("td", Fixed(t.WallSeconds, 1))))));

    private static XElement Charts(ScoreBook book)
    {
        var methods = book.Summaries.Select(s => s.Method).Distinct().ToList();
        return E("div", new XAttribute("class", "charts"),
            book.Summaries.GroupBy(s => s.Metric).OrderBy(g => MetricOrder(g.Key)).Select(g => Chart(g.Key, [.. g], methods)));
    }

    /// <summary>A line chart of A_t against the task t for each method, 360×220 px, with axes, ticks and a legend.</summary>
    private static XElement Chart(MetricKind metric, IReadOnlyList<MethodSummary> lines, IReadOnlyList<string> methods)
    {
        const double width = 360, height = 220, left = 56, right = 12, top = 28, bottom = 36;
        int tasks = lines.Max(l => l.AverageAfterTask.Count);
        var values = lines.SelectMany(l => l.AverageAfterTask).Select(v => v * metric.ReportScale).ToList();
        double low = values.Min(), high = values.Max();
        if (high - low < 1e-12) (low, high) = (low - 0.5 * Math.Max(Math.Abs(low), 1e-3), high + 0.5 * Math.Max(Math.Abs(high), 1e-3));
        double X(int task) => left + (tasks == 1 ? 0.5 : (double)task / (tasks - 1)) * (width - left - right);
        double Y(double v) => top + (high - v) / (high - low) * (height - top - bottom);
        var svg = new XElement(Svg + "svg", new XAttribute("width", width), new XAttribute("height", height),
            new XAttribute("viewBox", $"0 0 {width} {height}"), new XAttribute("role", "img"),
            SvgText(width / 2, 16, $"{metric.Label} (A_t)", "middle"),
            new XElement(Svg + "line", Attrs(("x1", left), ("y1", top), ("x2", left), ("y2", height - bottom), ("stroke", "#444"))),
            new XElement(Svg + "line", Attrs(("x1", left), ("y1", height - bottom), ("x2", width - right), ("y2", height - bottom), ("stroke", "#444"))),
            SvgText(left - 4, Y(high) + 4, Fixed(high, 3), "end"), SvgText(left - 4, Y(low) + 4, Fixed(low, 3), "end"),
            Enumerable.Range(0, tasks).Select(t => SvgText(X(t), height - bottom + 14, $"task {t + 1}", "middle")));
        foreach (var line in lines)
        {
            string colour = Colours[methods.ToList().IndexOf(line.Method) % Colours.Length];
            var points = line.AverageAfterTask.Select((v, t) => (X: X(t), Y: Y(v * metric.ReportScale))).ToList();
            svg.Add(new XElement(Svg + "polyline", Attrs(("fill", "none"), ("stroke", colour), ("stroke-width", 2),
                ("points", string.Join(" ", points.Select(p => Invariant($"{p.X:F1},{p.Y:F1}")))))));
            svg.Add(points.Select(p => new XElement(Svg + "circle", Attrs(("cx", p.X.ToString("F1", CultureInfo.InvariantCulture)),
                ("cy", p.Y.ToString("F1", CultureInfo.InvariantCulture)), ("r", 3), ("fill", colour)))));
        }
        svg.Add(methods.Where(m => lines.Any(l => l.Method == m)).Select((m, k) =>
            SvgText(width - right - 4, top + 12 + 14 * k, m, "end", Colours[methods.ToList().IndexOf(m) % Colours.Length])));
        return E("figure", svg);
    }

    private static XElement MethodSection(ScoreBook book, MethodState state)
    {
        int tasks = state.Tasks.Count;
        var section = new XElement(X + "section", E("h2", $"Method {state.Method}"), E("p", $"Model {state.Model}"));
        foreach (var metric in book.Cells.Where(c => c.Method == state.Method).Select(c => c.Metric).Distinct().OrderBy(MetricOrder))
            section.Add(E("h3", $"{metric.Label}: score of each concept (rows) after each task (columns)"),
                E("table", E("tr", Th("concept"), Enumerable.Range(1, tasks).Select(t => Th($"task {t}"))),
                    state.Concepts.Select((c, i) => E("tr", Td(c[0]), Enumerable.Range(0, tasks).Select(t =>
                        book.Cells.FirstOrDefault(x => x.Method == state.Method && x.Metric == metric && x.Task == t && x.ConceptIndex == i) is { } cell
                            ? Cell(new SummaryValue(cell.Value, cell.Interval), metric)
                            : E("td", ""))))));
        section.Add(E("h3", "Samples: first fidelity image of each concept (rows) after each task (columns); click for the folder"),
            E("table", E("tr", Th("concept"), Enumerable.Range(1, tasks).Select(t => Th($"task {t}"))),
                state.Concepts.Select(c => E("tr", Td(c[0]), state.Tasks.Select(t => SampleCell(t, c[0]))))));
        return section;
    }

    private static XElement SampleCell(TaskState task, string concept)
    {
        var image = task.Images.FirstOrDefault(i => i.Concept == concept && i.Kind == "fidelity");
        if (image is null) return E("td", "");
        return E("td", E("a", new XAttribute("href", image.Path),
            new XElement(X + "img", new XAttribute("class", "sample"), new XAttribute("src", image.Path), new XAttribute("alt", image.Prompt))));
    }

    private static XElement Cell(SummaryValue? value, MetricKind metric)
    {
        if (value is null) return E("td", "–");
        double s = metric.ReportScale;
        return E("td", Fixed(value.Value * s, 4), " ",
            E("span", new XAttribute("class", "ci"), $"[{Fixed(value.Interval.Lower * s, 4)}, {Fixed(value.Interval.Upper * s, 4)}]"));
    }

    private static int MetricOrder(MetricKind metric) => MetricKind.All.ToList().IndexOf(metric);

    private static XElement E(string name, params object[] content) => new(X + name, content.Length == 0 ? [""] : content);

    private static XElement Th(string text) => E("th", new XAttribute("class", "name"), text);

    private static XElement Td(string text) => E("td", new XAttribute("class", "name"), text);

    private static XElement SvgText(double x, double y, string text, string anchor, string fill = "#222") =>
        new(Svg + "text", Attrs(("x", x.ToString("F1", CultureInfo.InvariantCulture)), ("y", y.ToString("F1", CultureInfo.InvariantCulture)),
            ("text-anchor", anchor), ("font-size", 11), ("fill", fill)), text);

    private static XAttribute[] Attrs(params (string Name, object Value)[] attributes) =>
        [.. attributes.Select(a => new XAttribute(a.Name, a.Value is double d ? d.ToString("F1", CultureInfo.InvariantCulture) : a.Value))];

    private static string Fixed(double value, int digits) => value.ToString("F" + digits, CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
