using System.Text.RegularExpressions;
using IlgpuDiffusion.CLora.Library;
using IlgpuDiffusion.Model.Text;

namespace IlgpuDiffusion.CLora.Generation;

/// <summary>Finds concept tokens a prompt names (<c>&lt;name&gt;</c>, as the tokenizer sees them) that are not known.</summary>
public static partial class ConceptSpellings
{
    /// <summary>
    /// The <c>&lt;name&gt;</c> spellings in <paramref name="prompt"/> (concept names: lowercase letters, digits, '-', '_';
    /// matched after CLIP's cleanup, so case-insensitively) that are not among <paramref name="known"/> tokens, in order of
    /// first appearance; the tokenizer would read them as plain text. <c>&lt;lora:x:1&gt;</c> and the like are no concept names.
    /// </summary>
    public static IReadOnlyList<string> Unknown(string prompt, IEnumerable<string> known)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(known);
        var tokens = known.Select(ClipTextCleaner.Clean).ToHashSet(StringComparer.Ordinal);
        return [.. Spelling().Matches(ClipTextCleaner.Clean(prompt)).Select(m => m.Value)
            .Where(text => ConceptRecord.IsValidName(text[1..^1]) && !tokens.Contains(text)).Distinct()];
    }

    [GeneratedRegex(@"<[^<>\s]+>", RegexOptions.CultureInvariant)]
    private static partial Regex Spelling();
}
