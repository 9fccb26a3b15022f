using System.Text.RegularExpressions;

namespace IlgpuDiffusion.CLora.Library;

/// <summary>
/// What the trainer reports about one learned concept when it adds the task to a library: the concept's
/// <see cref="Name"/> (its token is <c>&lt;name&gt;</c>: lowercase ASCII letters, digits, <c>-</c> and <c>_</c>), an
/// optional <see cref="ClassWord"/> (C-LoRA drops it from the prompt; it is kept for evaluation prompts), the LoRA
/// <see cref="Rank"/> (0 for methods without factors), the <see cref="Training"/> settings, how many parameters were
/// trained, the wall time and when the concept was created.
/// </summary>
public sealed partial record ConceptRecord
{
    public required string Name { get; init; }

    public string? ClassWord { get; init; }

    public required int Rank { get; init; }

    public required TrainingSettings Training { get; init; }

    /// <summary>The number of parameters the optimizer updated (adapter factors or dense deltas, plus the token row).</summary>
    public required long TrainedParameters { get; init; }

    public required TimeSpan WallTime { get; init; }

    public required DateTimeOffset Created { get; init; }

    /// <summary>True for a usable concept name: 1 to 64 lowercase ASCII letters, digits, '-' and '_', starting with a letter or digit.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first field that does not fit the library.</summary>
    internal void Validate(LibraryMethod method, IEnumerable<string> taken)
    {
        if (!IsValidName(Name))
            throw new ArgumentException(
                $"concept name '{Name}': expected 1 to 64 lowercase ASCII letters, digits, '-' or '_', starting with a letter or digit " +
                "(CLIP lowercases prompts, and the name becomes the token <name> and part of tensor and file names).");
        if (taken.Contains(Name, StringComparer.Ordinal)) throw new ArgumentException($"concept '{Name}' is already in the library.");
        if (ClassWord is not null && string.IsNullOrWhiteSpace(ClassWord)) throw new ArgumentException($"concept '{Name}': the class word is blank; leave it null instead.");
        if (method.StoresFactors() ? Rank < 1 : Rank != 0)
            throw new ArgumentException($"concept '{Name}': rank {Rank} for method {method.Name()}: expected {(method.StoresFactors() ? "≥ 1" : "0 (it has no factors)")}.");
        if (TrainedParameters < 0) throw new ArgumentException($"concept '{Name}': trained parameter count {TrainedParameters} is negative.");
        if (WallTime < TimeSpan.Zero) throw new ArgumentException($"concept '{Name}': wall time {WallTime} is negative.");
        Training.Validate(Name);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
