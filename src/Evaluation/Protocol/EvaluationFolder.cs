namespace IlgpuDiffusion.Evaluation.Protocol;

/// <summary>
/// The layout of an evaluation folder DIR: <c>libraries/METHOD</c>, <c>images/METHOD/task-T/CONCEPT/*.png</c>,
/// <c>embeddings/real/CONCEPT.safetensors</c> and <c>embeddings/METHOD/task-T/CONCEPT.safetensors</c>,
/// <c>state/METHOD.json</c> (resumption), and the outputs <c>manifest.json</c>, <c>scores.csv</c>, <c>scores.json</c>,
/// <c>report.html</c>. Tasks are numbered from 1 in paths.
/// </summary>
public sealed class EvaluationFolder(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    public string Library(string method) => Path.Combine(Root, "libraries", method);

    /// <summary>An image's path relative to <see cref="Root"/>, with '/' separators (as the manifest and report link it).</summary>
    public static string ImagePath(string method, int task, string concept, string fileName) => $"images/{method}/task-{task + 1}/{concept}/{fileName}";

    public string Full(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    public string RealEmbeddings(string concept) => Path.Combine(Root, "embeddings", "real", $"{concept}.safetensors");

    public string TaskEmbeddings(string method, int task, string concept) => Path.Combine(Root, "embeddings", method, $"task-{task + 1}", $"{concept}.safetensors");

    public string StateFolder => Path.Combine(Root, "state");

    public string State(string method) => Path.Combine(StateFolder, $"{method}.json");

    public string Manifest => Path.Combine(Root, "manifest.json");

    public string ScoresCsv => Path.Combine(Root, "scores.csv");

    public string ScoresJson => Path.Combine(Root, "scores.json");

    public string Report => Path.Combine(Root, "report.html");
}
