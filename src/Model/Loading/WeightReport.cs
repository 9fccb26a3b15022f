using System.Text;

namespace IlgpuDiffusion.Model.Loading;

/// <summary>A tensor the model expected with one shape that the file holds with another.</summary>
public sealed record ShapeMismatch(string Name, string Source, IReadOnlyList<int> FileShape, IReadOnlyList<int> ExpectedShape)
{
    public override string ToString() =>
        $"'{Name}' is [{string.Join(", ", FileShape)}] in the file ({Source}), the model expects [{string.Join(", ", ExpectedShape)}]";
}

/// <summary>
/// How a component's tensors matched what its model took: <see cref="Missing"/> names the model asked for that the
/// checkpoint lacks (diffusers names), <see cref="Unexpected"/> tensors of the file the model never took or skipped
/// (file names), and <see cref="WrongShapes"/> tensors whose shape differs from the expected one.
/// </summary>
public sealed record WeightReport(string Component, IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected, IReadOnlyList<ShapeMismatch> WrongShapes)
{
    private const int ListedPerKind = 20;

    /// <summary>True when nothing is missing and every shape matched (unexpected tensors may remain).</summary>
    public bool IsComplete => Missing.Count == 0 && WrongShapes.Count == 0;

    /// <summary>True when the file and the model match exactly.</summary>
    public bool IsClean => IsComplete && Unexpected.Count == 0;

    /// <summary><see cref="IsComplete"/> when unexpected tensors are allowed, else <see cref="IsClean"/>.</summary>
    public bool Passes(bool allowUnexpected) => allowUnexpected ? IsComplete : IsClean;

    /// <summary>A summary line and one line per kind of problem, each listing up to 20 names.</summary>
    public override string ToString()
    {
        var text = new StringBuilder($"{Component}: {Missing.Count} missing, {Unexpected.Count} unexpected, {WrongShapes.Count} with the wrong shape");
        Append(text, "missing", Missing.Select(name => $"'{name}'").ToList());
        Append(text, "unexpected (in the file, not used by the model)", Unexpected.Select(name => $"'{name}'").ToList());
        Append(text, "wrong shape", WrongShapes.Select(m => m.ToString()).ToList());
        return text.ToString();
    }

    private static void Append(StringBuilder text, string kind, IReadOnlyList<string> items)
    {
        if (items.Count == 0) return;
        text.Append($"\n  {kind}: {string.Join(", ", items.Take(ListedPerKind))}");
        if (items.Count > ListedPerKind) text.Append($" … and {items.Count - ListedPerKind} more");
    }
}
