using System.Text.Json;
using IlgpuDiffusion.CLora.Library;

namespace IlgpuDiffusion.Evaluation.Protocol;

/// <summary>One concept of a sequence: its name (token <c>&lt;name&gt;</c>), its folder of real images (absolute) and its class word.</summary>
public sealed record ConceptSpec(string Name, string Images, string ClassWord)
{
    /// <summary>
    /// Reads a concepts file: a JSON array, in learning order, of <c>{"name": "rex", "images": "dir", "class": "dog"}</c>,
    /// image folders relative to the file. Errors name the file and the entry.
    /// </summary>
    public static IReadOnlyList<ConceptSpec> LoadList(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"concepts file '{path}' does not exist.", path);
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(File.ReadAllText(path)).RootElement;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"concepts file '{path}' is not valid JSON: {e.Message}", e);
        }
        if (root.ValueKind != JsonValueKind.Array || root.GetArrayLength() == 0)
            throw new InvalidDataException($"concepts file '{path}': expected a non-empty JSON array of {{\"name\", \"images\", \"class\"}} objects.");
        string baseFolder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var concepts = root.EnumerateArray().Select((entry, i) => new ConceptSpec(
            Field(path, entry, i, "name"), Path.GetFullPath(Path.Combine(baseFolder, Field(path, entry, i, "images"))), Field(path, entry, i, "class"))).ToList();
        foreach (var (concept, i) in concepts.Select((c, i) => (c, i)))
        {
            if (!ConceptRecord.IsValidName(concept.Name))
                throw new InvalidDataException($"concepts file '{path}', entry {i}: '{concept.Name}' is not a valid concept name " +
                                               "(1 to 64 lowercase ASCII letters, digits, '-' or '_').");
            if (!Directory.Exists(concept.Images))
                throw new DirectoryNotFoundException($"concepts file '{path}', entry {i} ({concept.Name}): image folder '{concept.Images}' does not exist.");
        }
        var duplicate = concepts.GroupBy(c => c.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidDataException($"concepts file '{path}': concept '{duplicate.Key}' appears twice.");
        return concepts;
    }

    private static string Field(string path, JsonElement entry, int index, string name) =>
        entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
        && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()!
            : throw new InvalidDataException($"concepts file '{path}', entry {index}: expected a non-empty string \"{name}\".");
}
