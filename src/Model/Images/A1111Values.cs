using System.Globalization;
using System.Text;
using System.Text.Json;

namespace IlgpuDiffusion.Model.Images;

/// <summary>
/// How A1111 writes and reads one value of the <c>key: value</c> line (<c>generation_parameters_copypaste.quote</c>
/// and <c>unquote</c>), and Python's <c>str()</c> of the numbers it writes.
/// </summary>
internal static class A1111Values
{
    /// <summary>A value with a comma, colon or newline becomes a JSON string (<c>json.dumps(v, ensure_ascii=False)</c>).</summary>
    public static string Quote(string value)
    {
        if (value.IndexOfAny([',', ':', '\n']) < 0) return value;
        var quoted = new StringBuilder("\"");
        foreach (char ch in value)
            quoted.Append(ch switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\b' => "\\b",
                '\f' => "\\f",
                < ' ' => $"\\u{(int)ch:x4}",
                _ => ch.ToString(),
            });
        return quoted.Append('"').ToString();
    }

    /// <summary>A value in double quotes is decoded as a JSON string; anything else, or invalid JSON, is kept as is.</summary>
    public static string Unquote(string value)
    {
        if (value.Length < 2 || value[0] != '"' || value[^1] != '"') return value;
        try
        {
            return JsonSerializer.Deserialize<string>(value) ?? value;
        }
        catch (JsonException)
        {
            return value;
        }
    }

    /// <summary>Python's <c>str(float)</c> for ordinary magnitudes: the shortest round-trip digits, "7.0" not "7".</summary>
    public static string Float(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture).ToLowerInvariant();
        return double.IsFinite(value) && !text.Contains('.') && !text.Contains('e') ? text + ".0" : text;
    }
}
