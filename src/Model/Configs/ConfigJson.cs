using System.Text.Json;

namespace IlgpuDiffusion.Model.Configs;

/// <summary>
/// Typed reads from one config.json object. Keys this engine does not know are ignored; a key that is absent or JSON
/// <c>null</c> takes its default, and a required key that is absent is a <see cref="ConfigException"/> naming the file
/// and the key, as is a value of the wrong type.
/// </summary>
internal sealed class ConfigJson
{
    private readonly JsonElement root;
    private readonly string keyPrefix;

    private ConfigJson(string path, JsonElement root, string keyPrefix = "")
    {
        Path = path;
        this.root = root;
        this.keyPrefix = keyPrefix;
    }

    /// <summary>The file the values come from (named in every error).</summary>
    public string Path { get; }

    public static ConfigJson Load(string path)
    {
        if (!File.Exists(path)) throw new ConfigException(path, null, "the file does not exist");
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path),
                new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new ConfigException(path, null, $"not valid JSON ({e.Message})", e);
        }
        if (root.ValueKind != JsonValueKind.Object) throw new ConfigException(path, null, $"expected a JSON object, found {root.ValueKind}");
        return new ConfigJson(path, root);
    }

    /// <summary>True when <paramref name="key"/> is present with a value other than null.</summary>
    public bool Has(string key) => Find(key) is not null;

    public int Int(string key) => Find(key) is { } value ? AsInt(key, value) : throw Missing(key);

    public int Int(string key, int fallback) => Find(key) is { } value ? AsInt(key, value) : fallback;

    public int? OptionalInt(string key) => Find(key) is { } value ? AsInt(key, value) : null;

    public double Double(string key, double fallback) => Find(key) is { } value
        ? value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw WrongType(key, "a number", value)
        : fallback;

    public bool Bool(string key, bool fallback) => Find(key) is { } value ? AsBool(key, value) : fallback;

    public string String(string key, string fallback) => Find(key) is { } value ? AsString(key, value) : fallback;

    public IReadOnlyList<int> Ints(string key) => List(key, "a list of integers", AsInt);

    public IReadOnlyList<string> Strings(string key) => List(key, "a list of strings", AsString);

    public IReadOnlyList<double> Doubles(string key) => List(key, "a list of numbers", AsDouble);

    /// <summary>The nested object <paramref name="key"/> (e.g. CLIP's <c>text_config</c>), read from the same file; errors name <c>key.inner</c>.</summary>
    public ConfigJson Section(string key)
    {
        var value = Find(key) ?? throw Missing(key);
        return value.ValueKind == JsonValueKind.Object ? new ConfigJson(Path, value, keyPrefix + key + ".") : throw WrongType(key, "an object", value);
    }

    /// <summary>Whether <paramref name="key"/> holds a JSON object rather than a number or a list.</summary>
    public bool IsObject(string key) => Find(key) is { ValueKind: JsonValueKind.Object };

    /// <summary>The strings of <paramref name="key"/>, or null when the key is absent.</summary>
    public IReadOnlyList<string>? OptionalStrings(string key) => Has(key) ? Strings(key) : null;

    /// <summary>
    /// A per-block value that diffusers writes either as one number for every block or as a list with one entry
    /// per block; returns the per-block list of length <paramref name="blocks"/>.
    /// </summary>
    public IReadOnlyList<int> IntPerBlock(string key, int blocks, int? fallback) => Find(key) switch
    {
        null when fallback is { } f => Enumerable.Repeat(f, blocks).ToArray(),
        null => throw Missing(key),
        { ValueKind: JsonValueKind.Array } => CheckLength(key, Ints(key), blocks),
        { } value => Enumerable.Repeat(AsInt(key, value), blocks).ToArray(),
    };

    /// <summary>A per-block flag written as one boolean or as a list of one per block (see <see cref="IntPerBlock"/>).</summary>
    public IReadOnlyList<bool> BoolPerBlock(string key, int blocks, bool fallback) => Find(key) switch
    {
        null => Enumerable.Repeat(fallback, blocks).ToArray(),
        { ValueKind: JsonValueKind.Array } => CheckLength(key, List(key, "a list of booleans", AsBool), blocks),
        { } value => Enumerable.Repeat(AsBool(key, value), blocks).ToArray(),
    };

    /// <summary>
    /// Refuses a key that selects a variant this engine does not build: it must be absent, null, or the JSON literal
    /// <paramref name="defaultJson"/> (compared as written, e.g. <c>3</c>, <c>false</c>, <c>"default"</c>).
    /// </summary>
    public void RequireDefault(string key, string defaultJson)
    {
        if (Find(key) is { } value && value.GetRawText() != defaultJson)
            throw new ConfigException(Path, keyPrefix + key, $"{value.GetRawText()} is not supported (an SD 1.x model has {defaultJson})");
    }

    /// <summary>An error for a value that fails a range or consistency check.</summary>
    public ConfigException Invalid(string key, string problem) => new(Path, keyPrefix + key, problem);

    private JsonElement? Find(string key) =>
        root.TryGetProperty(key, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private IReadOnlyList<T> List<T>(string key, string expected, Func<string, JsonElement, T> read)
    {
        var value = Find(key) ?? throw Missing(key);
        if (value.ValueKind != JsonValueKind.Array) throw WrongType(key, expected, value);
        return value.EnumerateArray().Select(item => read(key, item)).ToArray();
    }

    private IReadOnlyList<T> CheckLength<T>(string key, IReadOnlyList<T> values, int blocks) => values.Count == blocks
        ? values
        : throw new ConfigException(Path, keyPrefix + key, $"has {values.Count} entries, expected one per block ({blocks})");

    private int AsInt(string key, JsonElement value) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var result) ? result : throw WrongType(key, "an integer", value);

    private double AsDouble(string key, JsonElement value) =>
        value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw WrongType(key, "a number", value);

    private bool AsBool(string key, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw WrongType(key, "true or false", value),
    };

    private string AsString(string key, JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : throw WrongType(key, "a string", value);

    private ConfigException Missing(string key) => new(Path, keyPrefix + key, "required key is missing");

    private ConfigException WrongType(string key, string expected, JsonElement value) =>
        new(Path, keyPrefix + key, $"expected {expected}, found {value.GetRawText()}");
}
