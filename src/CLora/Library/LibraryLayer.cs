using System.Text.Json.Serialization;

namespace IlgpuDiffusion.CLora.Library;

/// <summary>An adapted weight matrix: its module <see cref="Name"/> and shape [<see cref="Out"/>, <see cref="In"/>].</summary>
public sealed record LibraryLayer(string Name, int Out, int In)
{
    [JsonIgnore]
    public int[] Shape => [Out, In];

    [JsonIgnore]
    public long Size => (long)Out * In;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless <paramref name="layers"/> suit the method: none for token-only or
    /// before the first task, else at least one; names unique and non-blank; positive sizes.
    /// </summary>
    internal static void Validate(IReadOnlyList<LibraryLayer> layers, LibraryMethod method, bool hasConcepts)
    {
        bool expectLayers = hasConcepts && method.StoresDeltas();
        if (expectLayers != (layers.Count > 0))
            throw new ArgumentException(expectLayers
                ? $"method {method.Name()} adapts layers, but none were given."
                : $"{layers.Count} layers, but {(hasConcepts ? $"method {method.Name()} adapts none" : "there are no concepts yet")}.");
        foreach (var layer in layers)
            if (string.IsNullOrWhiteSpace(layer.Name) || layer.Out < 1 || layer.In < 1)
                throw new ArgumentException($"layer '{layer.Name}' [{layer.Out}, {layer.In}]: expected a name and positive sizes.");
        if (layers.GroupBy(l => l.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
            throw new ArgumentException($"layer '{duplicate.Key}' appears {duplicate.Count()} times.");
    }
}
