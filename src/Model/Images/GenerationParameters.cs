using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;

namespace IlgpuDiffusion.Model.Images;

/// <summary>
/// The settings an image was generated with, in the form AUTOMATIC1111's web UI writes into a PNG's
/// <c>parameters</c> text chunk and reads back with "PNG Info":
/// <code>
/// PROMPT
/// Negative prompt: NEGATIVE
/// Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 1234, Size: 512x512, Model hash: abcdef1234, Model: name, Clip skip: 2
/// </code>
/// The negative-prompt line is left out when it is empty; <see cref="ModelHash"/>, <see cref="ModelName"/> and the
/// <see cref="Extra"/> fields (e.g. "Clip skip", "Denoising strength", "Lora hashes") follow the size, in that order.
/// </summary>
/// <param name="Prompt">The positive prompt, as typed (attention syntax included).</param>
/// <param name="NegativePrompt">The negative prompt, or "" for none.</param>
/// <param name="Steps">Number of denoising steps.</param>
/// <param name="Sampler">A1111's display name of the sampler, e.g. "Euler a", "DPM++ 2M Karras", "DDIM".</param>
/// <param name="CfgScale">Classifier-free guidance scale, written as Python writes a float ("7.0", "7.5").</param>
/// <param name="Seed">The noise seed.</param>
/// <param name="Width">Image width in pixels.</param>
/// <param name="Height">Image height in pixels.</param>
public sealed partial record GenerationParameters(
    string Prompt, string NegativePrompt, int Steps, string Sampler, double CfgScale, long Seed, int Width, int Height)
{
    private static readonly string[] CoreKeys = ["Steps", "Sampler", "CFG scale", "Seed", "Size", "Model hash", "Model"];
    private readonly IReadOnlyList<KeyValuePair<string, string>> extra = [];

    /// <summary>The checkpoint's name (A1111 writes the file name without extension), or null to leave it out.</summary>
    public string? ModelName { get; init; }

    /// <summary>The checkpoint's short hash (<see cref="Images.ModelHash.A1111"/>), or null to leave it out.</summary>
    public string? ModelHash { get; init; }

    /// <summary>
    /// Further <c>key: value</c> fields in the order they are written. Keys are letters, digits, underscores and
    /// spaces (what A1111's parser accepts) and none of the fields above.
    /// </summary>
    /// <exception cref="ArgumentException">A key A1111 could not read back, or one that duplicates a core field.</exception>
    public IReadOnlyList<KeyValuePair<string, string>> Extra
    {
        get => extra;
        init
        {
            foreach (var (key, _) in value)
                if (!KeyPattern().IsMatch(key) || CoreKeys.Contains(key))
                    throw new ArgumentException(
                        $"generation parameter key '{key}' is not allowed: expected letters, digits, '_' and inner spaces, and none of {string.Join(", ", CoreKeys)}.",
                        nameof(Extra));
            extra = value;
        }
    }

    /// <summary>
    /// The text A1111 writes (<c>processing.create_infotext</c>): the prompt, the negative prompt, then the fields
    /// joined by ", ", values with a comma, colon or newline JSON-quoted, the whole trimmed of surrounding whitespace.
    /// </summary>
    public string ToA1111Text()
    {
        var fields = new List<KeyValuePair<string, string>>
        {
            new("Steps", Steps.ToString(CultureInfo.InvariantCulture)),
            new("Sampler", Sampler),
            new("CFG scale", A1111Values.Float(CfgScale)),
            new("Seed", Seed.ToString(CultureInfo.InvariantCulture)),
            new("Size", string.Create(CultureInfo.InvariantCulture, $"{Width}x{Height}")),
        };
        if (ModelHash is not null) fields.Add(new("Model hash", ModelHash));
        if (ModelName is not null) fields.Add(new("Model", ModelName));
        fields.AddRange(Extra);
        var line = string.Join(", ", fields.Select(field => $"{field.Key}: {A1111Values.Quote(field.Value)}"));
        var negative = NegativePrompt.Length > 0 ? $"\nNegative prompt: {NegativePrompt}" : "";
        return $"{Prompt}{negative}\n{line}".Trim();
    }

    /// <summary>
    /// Reads A1111's text back (<c>generation_parameters_copypaste.parse_generation_parameters</c>): the last line
    /// holds the fields when at least three <c>key: value</c> pairs are found in it; the lines before it, each trimmed,
    /// are the prompt up to a line starting "Negative prompt:" and the negative prompt from there. Fields other than
    /// the core ones land in <see cref="Extra"/> with their values unquoted. Round trips
    /// <see cref="ToA1111Text"/> for prompts whose lines have no surrounding whitespace.
    /// </summary>
    /// <exception cref="FormatException">Steps, Sampler, CFG scale, Seed or Size is missing or not a number.</exception>
    public static GenerationParameters Parse(string text)
    {
        var lines = text.Trim().Split('\n');
        var last = lines[^1];
        var promptLines = lines[..^1];
        if (Field().Matches(last).Count < 3)
        {
            promptLines = lines;
            last = "";
        }

        var (prompt, negative) = SplitPrompts(promptLines);
        var fields = ReadFields(last);
        string Required(string key) => fields.TryGetValue(key, out var value)
            ? value
            : throw new FormatException($"A1111 parameters: no '{key}' field in '{last}' (expected e.g. 'Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 1234, Size: 512x512').");

        var size = SizePattern().Match(Required("Size"));
        if (!size.Success) throw new FormatException($"A1111 parameters: 'Size: {fields["Size"]}' is not WIDTHxHEIGHT.");
        return new GenerationParameters(
            prompt, negative, ParseNumber<int>("Steps", Required("Steps")), Required("Sampler"),
            ParseNumber<double>("CFG scale", Required("CFG scale")), ParseNumber<long>("Seed", Required("Seed")),
            ParseNumber<int>("Size", size.Groups[1].Value), ParseNumber<int>("Size", size.Groups[2].Value))
        {
            ModelHash = fields.GetValueOrDefault("Model hash"),
            ModelName = fields.GetValueOrDefault("Model"),
            Extra = fields.Where(field => !CoreKeys.Contains(field.Key)).ToList(),
        };
    }

    public bool Equals(GenerationParameters? other) => other is not null
        && (Prompt, NegativePrompt, Steps, Sampler, CfgScale, Seed, Width, Height, ModelName, ModelHash)
            == (other.Prompt, other.NegativePrompt, other.Steps, other.Sampler, other.CfgScale, other.Seed, other.Width, other.Height, other.ModelName, other.ModelHash)
        && Extra.SequenceEqual(other.Extra);

    public override int GetHashCode() => HashCode.Combine(Prompt, NegativePrompt, Steps, Sampler, CfgScale, Seed, HashCode.Combine(Width, Height, ModelName, ModelHash, Extra.Count));

    /// <summary>A1111 appends each line to the prompt with "\n", except while the prompt is still empty.</summary>
    private static (string Prompt, string Negative) SplitPrompts(IEnumerable<string> lines)
    {
        string prompt = "", negative = "";
        bool inNegative = false;
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.StartsWith("Negative prompt:", StringComparison.Ordinal))
            {
                inNegative = true;
                line = line["Negative prompt:".Length..].Trim();
            }
            if (inNegative) negative = negative.Length == 0 ? line : $"{negative}\n{line}";
            else prompt = prompt.Length == 0 ? line : $"{prompt}\n{line}";
        }
        return (prompt, negative);
    }

    /// <summary>The fields in order of first appearance; a repeated key keeps its place and takes the later value, as a Python dict does.</summary>
    private static OrderedDictionary<string, string> ReadFields(string line)
    {
        var fields = new OrderedDictionary<string, string>();
        foreach (Match match in Field().Matches(line))
            fields[match.Groups[1].Value] = A1111Values.Unquote(match.Groups[2].Value);
        return fields;
    }

    private static T ParseNumber<T>(string key, string value) where T : INumber<T> =>
        T.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new FormatException($"A1111 parameters: '{key}: {value}' is not a number.");

    /// <summary>A1111's <c>re_param_code</c>.</summary>
    [GeneratedRegex("""\s*([\w ]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)""")]
    private static partial Regex Field();

    [GeneratedRegex(@"^(\d+)x(\d+)$")]
    private static partial Regex SizePattern();

    [GeneratedRegex(@"^\w[\w ]*(?<! )$")]
    private static partial Regex KeyPattern();
}
