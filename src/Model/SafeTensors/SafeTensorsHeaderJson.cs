using System.Text.Json;

namespace IlgpuDiffusion.Model.SafeTensors;

/// <summary>
/// Parses a safetensors header's JSON into its entries, checking types only (offsets and sizes are checked by
/// <see cref="SafeTensorsHeader"/>). It walks the text with <see cref="Utf8JsonReader"/> rather than a DOM so that
/// duplicate names are caught: a DOM or a deserializer keeps the last duplicate without a word.
/// </summary>
internal static class SafeTensorsHeaderJson
{
    public const string MetadataKey = "__metadata__";

    /// <summary>A tensor's header entry as written, before its shape and offsets are checked.</summary>
    public readonly record struct Entry(string Name, SafeTensorsDType DType, long[] Shape, long Start, long End);

    public static (Dictionary<string, string> Metadata, List<Entry> Entries) Parse(ReadOnlySpan<byte> json, string path)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<Entry>();
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
                throw new SafeTensorsFormatException(path, null, $"the header is a JSON {Describe(reader.TokenType)}, not an object");
            var names = new HashSet<string>(StringComparer.Ordinal);
            while (NextProperty(ref reader))
            {
                var name = reader.GetString()!;
                if (!names.Add(name))
                    throw new SafeTensorsFormatException(path, name, "the name appears more than once in the header");
                reader.Read();
                if (name == MetadataKey) ReadMetadata(ref reader, path, metadata);
                else entries.Add(ReadEntry(ref reader, path, name));
            }
            // Anything but whitespace after the root object makes this throw.
            reader.Read();
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException(path, null, $"the header is not valid JSON ({e.Message})", e);
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader.GetString reports invalid UTF-8 this way.
            throw new SafeTensorsFormatException(path, null, $"the header is not valid UTF-8 JSON ({e.Message})", e);
        }
        return (metadata, entries);
    }

    private static void ReadMetadata(ref Utf8JsonReader reader, string path, Dictionary<string, string> metadata)
    {
        if (reader.TokenType == JsonTokenType.Null) return;
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new SafeTensorsFormatException(path, null, $"'{MetadataKey}' is a JSON {Describe(reader.TokenType)}, not an object of strings");
        while (NextProperty(ref reader))
        {
            var key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
                throw new SafeTensorsFormatException(path, null, $"'{MetadataKey}' value of '{key}' is a JSON {Describe(reader.TokenType)}, not a string");
            if (!metadata.TryAdd(key, reader.GetString()!))
                throw new SafeTensorsFormatException(path, null, $"'{MetadataKey}' has the key '{key}' more than once");
        }
    }

    private static Entry ReadEntry(ref Utf8JsonReader reader, string path, string name)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new SafeTensorsFormatException(path, name, $"the header entry is a JSON {Describe(reader.TokenType)}, not an object");
        string? dtype = null;
        long[]? shape = null, offsets = null;
        var fields = new HashSet<string>(StringComparer.Ordinal);
        while (NextProperty(ref reader))
        {
            var field = reader.GetString()!;
            if (!fields.Add(field))
                throw new SafeTensorsFormatException(path, name, $"the entry has the field '{field}' more than once");
            reader.Read();
            switch (field)
            {
                case "dtype":
                    dtype = reader.TokenType == JsonTokenType.String
                        ? reader.GetString()!
                        : throw new SafeTensorsFormatException(path, name, $"'dtype' is a JSON {Describe(reader.TokenType)}, not a string");
                    break;
                case "shape":
                    shape = ReadIntegers(ref reader, path, name, field);
                    break;
                case "data_offsets":
                    offsets = ReadIntegers(ref reader, path, name, field);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        if (dtype is null) throw new SafeTensorsFormatException(path, name, "the entry has no 'dtype'");
        if (shape is null) throw new SafeTensorsFormatException(path, name, "the entry has no 'shape'");
        if (offsets is null) throw new SafeTensorsFormatException(path, name, "the entry has no 'data_offsets'");
        if (!SafeTensorsDTypeExtensions.TryParse(dtype, out var parsed))
            throw new SafeTensorsFormatException(path, name, $"unknown dtype '{dtype}' (supported: F32, F16, BF16, F64, I32, I64)");
        if (offsets.Length != 2)
            throw new SafeTensorsFormatException(path, name, $"'data_offsets' has {offsets.Length} values, not 2 (start and end)");
        return new Entry(name, parsed, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadIntegers(ref Utf8JsonReader reader, string path, string name, string field)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new SafeTensorsFormatException(path, name, $"'{field}' is a JSON {Describe(reader.TokenType)}, not an array of integers");
        var values = new List<long>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value))
                throw new SafeTensorsFormatException(path, name, $"'{field}' holds a value that is not a 64-bit integer");
            values.Add(value);
        }
        return [.. values];
    }

    /// <summary>Moves to the next property of the current object; false at its end.</summary>
    private static bool NextProperty(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.PropertyName;
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "object",
        JsonTokenType.StartArray => "array",
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };
}
