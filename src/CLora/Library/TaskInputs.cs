namespace IlgpuDiffusion.CLora.Library;

/// <summary>
/// Checks what a trainer hands to <see cref="ConceptLibrary.AddTask"/> or <see cref="ConceptLibrary.AddDenseTask"/>
/// before anything is computed or written: shapes against data lengths, ranks and earlier tasks, and finite values
/// (a NaN folded into P would poison every later task). Errors are <see cref="ArgumentException"/>s naming the concept,
/// the layer and what was expected.
/// </summary>
internal static class TaskInputs
{
    /// <summary>The layer that factors down [r, in] and up [out, r] adapt.</summary>
    public static LibraryLayer FactorLayer(string layer, (float[] down, int[] downShape, float[] up, int[] upShape) factors, int rank)
    {
        var (down, downShape, up, upShape) = factors;
        Matrix(layer, "down", down, downShape);
        Matrix(layer, "up", up, upShape);
        if (downShape[0] != rank || upShape[1] != rank)
            throw new ArgumentException(
                $"layer '{layer}': down [{downShape[0]}, {downShape[1]}] and up [{upShape[0]}, {upShape[1]}] do not have the concept's rank {rank} " +
                $"(expected down [{rank}, in] and up [out, {rank}]).");
        return new LibraryLayer(layer, upShape[0], downShape[1]);
    }

    /// <summary>The layer that a dense delta [out, in] changes.</summary>
    public static LibraryLayer DenseLayer(string layer, float[] delta, int[] shape)
    {
        Matrix(layer, "delta", delta, shape);
        return new LibraryLayer(layer, shape[0], shape[1]);
    }

    /// <summary>The token width, checked against the library's (0 before the first task).</summary>
    public static int TokenWidth(string concept, float[] tokenRow, int libraryWidth)
    {
        ArgumentNullException.ThrowIfNull(tokenRow);
        if (tokenRow.Length == 0 || (libraryWidth > 0 && tokenRow.Length != libraryWidth))
            throw new ArgumentException($"concept '{concept}': the token row has {tokenRow.Length} values; expected {(libraryWidth > 0 ? libraryWidth : "at least 1")}.", nameof(tokenRow));
        RequireFinite(tokenRow, $"concept '{concept}': the token row");
        return tokenRow.Length;
    }

    /// <summary>The task's layers sorted by name, which must be the library's layers when it has any.</summary>
    public static LibraryLayer[] Layers(LibraryLayer[] given, IReadOnlyList<LibraryLayer> library, LibraryMethod method, string concept)
    {
        var sorted = given.OrderBy(l => l.Name, StringComparer.Ordinal).ToArray();
        try
        {
            LibraryLayer.Validate(sorted, method, hasConcepts: true);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"concept '{concept}': {e.Message}", e);
        }
        if (library.Count == 0 || sorted.SequenceEqual(library)) return sorted;
        var known = library.ToDictionary(l => l.Name, StringComparer.Ordinal);
        var names = sorted.Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        var problems = library.Where(l => !names.Contains(l.Name)).Select(l => $"'{l.Name}' is missing")
            .Concat(sorted.Where(l => !known.ContainsKey(l.Name)).Select(l => $"'{l.Name}' is not a layer of the library"))
            .Concat(sorted.Where(l => known.TryGetValue(l.Name, out var k) && k != l)
                .Select(l => $"'{l.Name}' is [{l.Out}, {l.In}], expected [{known[l.Name].Out}, {known[l.Name].In}]"));
        throw new ArgumentException($"concept '{concept}': every task adapts the library's {library.Count} layers: {string.Join("; ", problems.Take(5))}.");
    }

    private static void Matrix(string layer, string role, float[] data, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data, $"{layer}.{role}");
        ArgumentNullException.ThrowIfNull(shape, $"{layer}.{role} shape");
        if (shape.Length != 2 || shape[0] < 1 || shape[1] < 1 || (long)shape[0] * shape[1] != data.Length)
            throw new ArgumentException($"layer '{layer}': {role} has {data.Length} values and shape [{string.Join(", ", shape)}]; expected a 2-D shape with positive sizes that the values fill.");
        RequireFinite(data, $"layer '{layer}': {role}");
    }

    private static void RequireFinite(float[] data, string what)
    {
        int bad = Array.FindIndex(data, v => !float.IsFinite(v));
        if (bad >= 0) throw new ArgumentException($"{what} has the non-finite value {data[bad]} at index {bad}.");
    }
}
