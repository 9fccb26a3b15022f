using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace IlgpuDiffusion.CLora.Library;

/// <summary>
/// The content of <c>library.json</c>: the schema version, the base model, the run's settings, which tensors file
/// holds the current version (with its SHA-256), the adapted layers and token width (fixed by the first task; empty
/// and 0 before it), and the concepts in task order.
/// </summary>
internal sealed record LibraryManifest
{
    /// <summary>The schema this engine writes, and the newest it reads.</summary>
    public const int CurrentSchema = 1;

    private static readonly JsonSerializerOptions options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // a local file, not HTML: keep <dog> readable
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public required int SchemaVersion { get; init; }

    public required ModelIdentity Model { get; init; }

    public required LibrarySettings Settings { get; init; }

    public required TensorsFile Tensors { get; init; }

    public required int TokenWidth { get; init; }

    public required IReadOnlyList<LibraryLayer> Layers { get; init; }

    public required IReadOnlyList<LibraryConcept> Concepts { get; init; }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, options);

    /// <summary>Parses and validates <paramref name="json"/>; <paramref name="path"/> names the file in errors.</summary>
    public static LibraryManifest Parse(ReadOnlySpan<byte> json, string path)
    {
        int schema = SchemaOf(json, path);
        if (schema is < 1 or > CurrentSchema)
            throw new ConceptLibraryException(path, $"schema version {schema} is not one this engine reads (1 to {CurrentSchema}).");
        LibraryManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<LibraryManifest>(json, options) ?? throw new JsonException("the document is null");
        }
        catch (JsonException e)
        {
            throw new ConceptLibraryException(path, $"not a valid library manifest: {e.Message}", e);
        }
        try
        {
            manifest.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ConceptLibraryException(path, e.Message, e);
        }
        return manifest;
    }

    /// <summary>Reads only <c>schemaVersion</c>, so a newer schema is reported as such rather than as a parse error.</summary>
    private static int SchemaOf(ReadOnlySpan<byte> json, string path)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty("schemaVersion", out var version) && version.TryGetInt32(out int value)
                ? value
                : throw new ConceptLibraryException(path, "no integer \"schemaVersion\" at the top level: this is not a library manifest.");
        }
        catch (JsonException e)
        {
            throw new ConceptLibraryException(path, $"not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>The checks the JSON types cannot express; throws <see cref="ArgumentException"/> naming the field.</summary>
    private void Validate()
    {
        if (!Sha256Files.IsDigest(Model.Sha256)) throw new ArgumentException($"model.sha256 '{Model.Sha256}' is not 64 lowercase hex digits.");
        if (!Sha256Files.IsDigest(Tensors.Sha256)) throw new ArgumentException($"tensors.sha256 '{Tensors.Sha256}' is not 64 lowercase hex digits.");
        if (!LibraryFiles.IsTensorsFile(Tensors.File)) throw new ArgumentException($"tensors.file '{Tensors.File}' is not a library-NNNN.safetensors name.");
        Settings.Validate();
        LibraryLayer.Validate(Layers, Settings.Method, Concepts.Count > 0);
        if (TokenWidth < 0 || (TokenWidth == 0) != (Concepts.Count == 0))
            throw new ArgumentException($"tokenWidth {TokenWidth}: expected a positive width once there are concepts, 0 before.");
        for (int task = 0; task < Concepts.Count; task++)
        {
            var concept = Concepts[task];
            concept.Record.Validate(Settings.Method, Concepts.Take(task).Select(c => c.Name));
            var expected = ConceptLibrary.Describe(task, concept.Record, Settings.Method, Layers, TokenWidth);
            if (concept != expected)
                throw new ArgumentException(
                    $"concept {task} ('{concept.Name}'): task {concept.Task}, token {concept.Token}, id {concept.TokenId}, " +
                    $"{concept.StoredParameters} stored parameters; expected task {expected.Task}, token {expected.Token}, " +
                    $"id {expected.TokenId}, {expected.StoredParameters} stored parameters.");
        }
    }
}

/// <summary>The tensors file a manifest names, and the SHA-256 it must have.</summary>
internal sealed record TensorsFile(string File, string Sha256);
