using System.Globalization;
using System.Text.RegularExpressions;

namespace IlgpuDiffusion.Model.Prompts;

/// <summary>
/// AUTOMATIC1111's prompt attention syntax (<c>prompt_parser.parse_prompt_attention</c>), ported rule for rule:
/// <list type="bullet">
/// <item><c>(text)</c> multiplies the weight of <c>text</c> by 1.1, <c>[text]</c> by 1/1.1, <c>(text:1.5)</c> by 1.5;
/// nested brackets multiply (in the order they close, in float64, as Python does).</item>
/// <item><c>\(</c>, <c>\)</c>, <c>\[</c>, <c>\]</c> and <c>\\</c> are literal characters; any other backslash is dropped.</item>
/// <item>An opener never closed applies to the rest of the prompt; a closer with nothing open is literal text.</item>
/// <item><c>BREAK</c> (upper case, a whole word, with the whitespace around it) ends the current 75-token chunk.</item>
/// <item>Adjacent segments of equal weight are merged, so a prompt without brackets is one segment of weight 1.</item>
/// </list>
/// One deliberate difference: A1111 marks BREAK with weight −1 and lets enclosing brackets multiply it, after which it
/// is no longer recognized and the word "break" is encoded with a negative weight; here BREAK is always a break.
/// </summary>
public static partial class PromptParser
{
    /// <summary>The multiplier of <c>( )</c>.</summary>
    public const double RoundBracketMultiplier = 1.1;

    /// <summary>The multiplier of <c>[ ]</c>.</summary>
    public const double SquareBracketMultiplier = 1 / 1.1;

    /// <summary>Splits <paramref name="text"/> into weighted segments and BREAK markers; empty text gives no segment.</summary>
    /// <exception cref="ArgumentException">A <c>(text:weight)</c> weight is not a number, e.g. "1.2.3".</exception>
    public static IReadOnlyList<PromptSegment> Parse(string text)
    {
        var segments = new List<PromptSegment>();
        var round = new List<int>();
        var square = new List<int>();
        foreach (Match match in Attention().Matches(text))
        {
            var token = match.Value;
            var weight = match.Groups[1];
            if (token[0] == '\\') segments.Add(new PromptSegment(token[1..], 1.0));
            else if (token == "(") round.Add(segments.Count);
            else if (token == "[") square.Add(segments.Count);
            else if (weight.Success && round.Count > 0) Multiply(segments, Pop(round), ParseWeight(weight.Value, text));
            else if (token == ")" && round.Count > 0) Multiply(segments, Pop(round), RoundBracketMultiplier);
            else if (token == "]" && square.Count > 0) Multiply(segments, Pop(square), SquareBracketMultiplier);
            else AddText(segments, token);
        }
        foreach (int start in round) Multiply(segments, start, RoundBracketMultiplier);
        foreach (int start in square) Multiply(segments, start, SquareBracketMultiplier);
        return Merge(segments);
    }

    private static int Pop(List<int> stack)
    {
        int top = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return top;
    }

    private static void Multiply(List<PromptSegment> segments, int start, double multiplier)
    {
        for (int i = start; i < segments.Count; i++)
            if (!segments[i].IsBreak)
                segments[i] = segments[i] with { Weight = segments[i].Weight * multiplier };
    }

    /// <summary>Plain text, split at each BREAK (A1111's <c>re_break</c>); the empty pieces around a BREAK are dropped.</summary>
    private static void AddText(List<PromptSegment> segments, string text)
    {
        var parts = BreakKeyword().Split(text);
        for (int i = 0; i < parts.Length; i++)
        {
            if (i > 0) segments.Add(PromptSegment.Break);
            if (parts[i].Length > 0) segments.Add(new PromptSegment(parts[i], 1.0));
        }
    }

    private static List<PromptSegment> Merge(List<PromptSegment> segments)
    {
        var merged = new List<PromptSegment>();
        foreach (var segment in segments)
        {
            var last = merged.Count > 0 ? merged[^1] : null;
            if (last is not null && !last.IsBreak && !segment.IsBreak && last.Weight == segment.Weight)
                merged[^1] = last with { Text = last.Text + segment.Text };
            else
                merged.Add(segment);
        }
        return merged;
    }

    private static double ParseWeight(string weight, string prompt) =>
        double.TryParse(weight, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ArgumentException($"prompt '{prompt}': the attention weight '{weight}' is not a number (expected e.g. '(word:1.5)').", "text");

    /// <summary>A1111's <c>re_attention</c>: escapes, brackets, a weighted closer, plain text, a lone colon.</summary>
    [GeneratedRegex(@"\\\(|\\\)|\\\[|\\]|\\\\|\\|\(|\[|:\s*([+-]?[.\d]+)\s*\)|\)|]|[^\\()\[\]:]+|:")]
    private static partial Regex Attention();

    /// <summary>A1111's <c>re_break</c>.</summary>
    [GeneratedRegex(@"\s*\bBREAK\b\s*", RegexOptions.Singleline)]
    private static partial Regex BreakKeyword();
}
