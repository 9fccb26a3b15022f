using IlgpuDiffusion.Model.SafeTensors;

namespace IlgpuDiffusion.CLora.Library;

/// <summary>
/// The tensors of <c>library-NNNN.safetensors</c>, all F32: per task t (0-based) and layer ℓ the factors
/// <c>task{t}.{ℓ}.lora_down</c> [r, in] and <c>task{t}.{ℓ}.lora_up</c> [out, r] and per layer the accumulated
/// <c>P.{ℓ}</c> [out, in] (c-lora and lora), or per layer the accumulated dense <c>delta.{ℓ}</c> [out, in]
/// (kv-finetune); and per concept its token row <c>token.{name}</c> [C]. The manifest decides exactly which tensors
/// and shapes a version has, so a file with a missing, extra or wrongly shaped tensor is refused.
/// </summary>
internal static class LibraryTensors
{
    public static string Down(int task, string layer) => $"task{task}.{layer}.lora_down";

    public static string Up(int task, string layer) => $"task{task}.{layer}.lora_up";

    public static string Accumulated(string layer) => $"P.{layer}";

    public static string Delta(string layer) => $"delta.{layer}";

    public static string Token(string name) => $"token.{name}";

    /// <summary>The per-layer tensor that holds the sum of all tasks' deltas: <c>P.{ℓ}</c> or <c>delta.{ℓ}</c>.</summary>
    public static string Merged(LibraryMethod method, string layer) => method.StoresFactors() ? Accumulated(layer) : Delta(layer);

    /// <summary>Every tensor a version described by <paramref name="manifest"/> holds, with its shape.</summary>
    public static IEnumerable<(string Name, int[] Shape)> Expected(LibraryManifest manifest)
    {
        var method = manifest.Settings.Method;
        foreach (var concept in manifest.Concepts)
        {
            yield return (Token(concept.Name), [manifest.TokenWidth]);
            if (!method.StoresFactors()) continue;
            foreach (var layer in manifest.Layers)
            {
                yield return (Down(concept.Task, layer.Name), [concept.Record.Rank, layer.In]);
                yield return (Up(concept.Task, layer.Name), [layer.Out, concept.Record.Rank]);
            }
        }
        if (manifest.Concepts.Count > 0 && method.StoresDeltas())
            foreach (var layer in manifest.Layers) yield return (Merged(method, layer.Name), layer.Shape);
    }

    /// <summary>Writes the tensors (atomically, as <see cref="SafeTensorsWriter.Save"/> does) to <paramref name="path"/>.</summary>
    public static void Save(string path, LibraryManifest manifest, IReadOnlyDictionary<string, float[]> tensors)
    {
        var writer = new SafeTensorsWriter();
        writer.Metadata["format"] = "pt";
        foreach (var (name, shape) in Expected(manifest)) writer.Add(name, tensors[name], shape);
        writer.Save(path);
    }

    /// <summary>Reads every tensor, after checking that the file holds exactly the expected names, F32 dtypes and shapes.</summary>
    public static Dictionary<string, float[]> Load(string path, LibraryManifest manifest)
    {
        using var reader = SafeTensorsReader.Open(path);
        var expected = Expected(manifest).ToArray();
        var present = reader.Tensors.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var missing = expected.Select(e => e.Name).Where(name => !present.Contains(name)).ToArray();
        if (missing.Length > 0) throw new ConceptLibraryException(path, $"missing tensors {Listing(missing)} that {LibraryFiles.Manifest} expects.");
        var extra = present.Except(expected.Select(e => e.Name), StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (extra.Length > 0) throw new ConceptLibraryException(path, $"unexpected tensors {Listing(extra)} that {LibraryFiles.Manifest} does not describe.");
        var tensors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (name, shape) in expected)
        {
            var info = reader.GetInfo(name);
            if (info.DType != SafeTensorsDType.F32 || !info.Shape.SequenceEqual(shape))
                throw new ConceptLibraryException(path, $"tensor '{name}' is {info.DType} [{string.Join(", ", info.Shape)}]; expected F32 [{string.Join(", ", shape)}].");
            tensors.Add(name, reader.ReadF32(name));
        }
        return tensors;
    }

    private static string Listing(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(5).Select(n => $"'{n}'")) + (names.Count > 5 ? $" and {names.Count - 5} more" : "");
}
