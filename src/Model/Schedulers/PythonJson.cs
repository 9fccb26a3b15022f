using System.Text;

namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>
/// Python's <c>json</c> module writes the non-standard literals <c>NaN</c>, <c>Infinity</c> and <c>-Infinity</c>
/// (diffusers saves <c>"lambda_min_clipped": -Infinity</c>). System.Text.Json refuses them, so they are quoted before
/// parsing; <see cref="SchedulerConfig"/> reads such strings back as doubles.
/// </summary>
internal static class PythonJson
{
    private static readonly string[] literals = ["-Infinity", "Infinity", "NaN"];

    /// <summary>The text with every bare non-finite literal outside strings wrapped in quotes.</summary>
    public static string QuoteNonFiniteLiterals(string json)
    {
        var result = new StringBuilder(json.Length + 16);
        bool inString = false;
        for (int i = 0; i < json.Length; i++)
        {
            char c = json[i];
            if (inString)
            {
                result.Append(c);
                if (c == '\\' && i + 1 < json.Length) result.Append(json[++i]);
                else if (c == '"') inString = false;
                continue;
            }
            if (c == '"')
            {
                inString = true;
                result.Append(c);
                continue;
            }
            var literal = literals.FirstOrDefault(l => string.CompareOrdinal(json, i, l, 0, l.Length) == 0);
            if (literal is null)
            {
                result.Append(c);
                continue;
            }
            result.Append('"').Append(literal).Append('"');
            i += literal.Length - 1;
        }
        return result.ToString();
    }
}
