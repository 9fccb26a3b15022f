using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace IlgpuDiffusion.Model.Text;

/// <summary>
/// CLIP's prompt cleanup as transformers' CLIPTokenizer applies it with ftfy installed:
/// <c>whitespace_clean(ftfy.fix_text(text)).lower()</c>. The ftfy part is the subset of ftfy 6.1's default
/// <c>fix_text</c> that changes ordinary prompts: HTML entity unescaping (only when the text holds no '&lt;', as
/// ftfy's "auto" mode), terminal escapes, Latin ligatures, full-width and half-width forms, curly quotes, line
/// breaks, control characters and NFC normalization. Mojibake repair (<c>fix_encoding</c>) and C1-control
/// reinterpretation are not reproduced: they only change text that was decoded with the wrong code page.
/// </summary>
public static partial class ClipTextCleaner
{
    /// <summary>Cleans <paramref name="text"/> the way CLIP's tokenizer does before splitting it into words.</summary>
    public static string Clean(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var fixedText = FixText(text);
        var collapsed = Whitespace().Replace(fixedText, " ").Trim();
        return collapsed.ToLowerInvariant();
    }

    private static string FixText(string text)
    {
        if (!text.Contains('<')) text = WebUtility.HtmlDecode(text);
        text = TerminalEscape().Replace(text, "");
        var builder = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            if (IsRemovedControl(rune.Value)) continue;
            builder.Append(FixRune(rune));
        }
        return builder.ToString().Normalize(NormalizationForm.FormC);
    }

    private static string FixRune(Rune rune)
    {
        int c = rune.Value;
        // Latin ligatures (ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ, Ĳ ĳ, Ǆ…ǌ, Ǳ…ǳ, ŉ) and full-/half-width forms become their compatibility forms.
        if ((c >= 0xFB00 && c <= 0xFB06) || c is 0x0132 or 0x0133 or 0x0149 || (c >= 0x01C4 && c <= 0x01CC) || (c >= 0x01F1 && c <= 0x01F3))
            return rune.ToString().Normalize(NormalizationForm.FormKC);
        if (c == 0x3000) return " ";
        if ((c >= 0xFF01 && c <= 0xFF5E) || (c >= 0xFF61 && c <= 0xFFDC) || (c >= 0xFFE0 && c <= 0xFFEE))
            return rune.ToString().Normalize(NormalizationForm.FormKC);
        // Curly quotes become straight quotes.
        if (c == 0x02BC || (c >= 0x2018 && c <= 0x201B)) return "'";
        if (c >= 0x201C && c <= 0x201F) return "\"";
        // Unicode line breaks become \n (whitespace cleanup then turns them into spaces).
        if (c is 0x2028 or 0x2029 or 0x0085) return "\n";
        return rune.ToString();
    }

    /// <summary>ftfy's <c>remove_control_chars</c>: C0 controls other than tab/newline/form-feed/CR, DEL, and invisible format marks.</summary>
    private static bool IsRemovedControl(int c) =>
        c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F
        || (c >= 0x206A && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC)
        || (c >= 0x1D173 && c <= 0x1D17A) || (c >= 0xE0000 && c <= 0xE007F);

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"\x1b\[[0-9;]*[A-Za-z]")]
    private static partial Regex TerminalEscape();
}
