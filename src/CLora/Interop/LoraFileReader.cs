using IlgpuDiffusion.Model.SafeTensors;

namespace IlgpuDiffusion.CLora.Interop;

/// <summary>Reads a <see cref="LoraFile"/>: parses every tensor name, groups them by module, and builds one layer per complete group.</summary>
internal static class LoraFileReader
{
    private const string Conversion = "import torch; from safetensors.torch import save_file; " +
        "sd = torch.load('lora.bin', map_location='cpu', weights_only=True); " +
        "save_file({k: v.contiguous() for k, v in sd.items()}, 'lora.safetensors')";

    public static LoraFile Read(string path, LoraModuleIndex modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        using var reader = InteropFiles.Open(path, "LoRA", Conversion);
        var peft = new Lazy<PeftAdapterConfig?>(() => PeftAdapterConfig.Beside(reader.Path));
        var unmatched = new List<LoraUnmatchedKey>();
        var groups = new SortedDictionary<(LoraComponent Component, string Module), List<ParsedLoraKey>>(
            Comparer<(LoraComponent Component, string Module)>.Create((a, b) =>
                a.Component != b.Component ? a.Component.CompareTo(b.Component) : string.CompareOrdinal(a.Module, b.Module)));
        foreach (var info in reader.Tensors)
        {
            var key = LoraKeyParser.Parse(info.Name, modules, out var problem);
            if (key is null)
                unmatched.Add(new LoraUnmatchedKey(info.Name, problem));
            else if (groups.TryGetValue((key.Component, key.Module), out var group))
                group.Add(key);
            else
                groups.Add((key.Component, key.Module), [key]);
        }
        var layers = new List<LoraLayerDelta>();
        var dialects = new HashSet<LoraDialect>();
        foreach (var ((component, module), keys) in groups)
        {
            var problem = Incomplete(keys);
            // Incomplete is null only when there is exactly one down and one up factor.
            var down = keys.Find(k => k.Role == LoraKeyRole.Down)!;
            var up = keys.Find(k => k.Role == LoraKeyRole.Up)!;
            problem ??= Misfit(module, reader.GetInfo(down.Key).Shape, reader.GetInfo(up.Key).Shape, modules.WeightShape(component, module)!);
            if (problem is not null)
            {
                unmatched.AddRange(keys.Select(k => new LoraUnmatchedKey(k.Key, problem)));
                continue;
            }
            layers.Add(Build(reader, component, module, down, up, keys.Find(k => k.Role == LoraKeyRole.Alpha),
                down.Dialect == LoraDialect.Peft ? peft.Value : null));
            dialects.Add(down.Dialect);
        }
        return new LoraFile(reader.Path, reader.Metadata, layers, [.. unmatched.OrderBy(u => u.Key, StringComparer.Ordinal)], dialects);
    }

    /// <summary>Why the keys of one module do not form a LoRA layer this engine applies, or null when they do.</summary>
    private static string? Incomplete(List<ParsedLoraKey> keys)
    {
        if (keys.FirstOrDefault(k => k.Role == LoraKeyRole.Unsupported) is { } other)
            return $"'{other.Suffix}' belongs to a LoRA extension this engine does not apply (LyCORIS LoHa/LoKr/Tucker lora_mid, DoRA…), so the whole layer is skipped";
        int downs = keys.Count(k => k.Role == LoraKeyRole.Down), ups = keys.Count(k => k.Role == LoraKeyRole.Up);
        if (downs == 0 || ups == 0) return $"the layer has no {(downs == 0 ? "down" : "up")} factor";
        if (downs > 1 || ups > 1 || keys.Count(k => k.Role == LoraKeyRole.Alpha) > 1)
            return "several tensors of the same role adapt this module (two dialects in one file?)";
        return null;
    }

    /// <summary>Why ΔW does not fit the model's weight (a LoRA for another model), or null when it does or the factors are malformed (Build says so).</summary>
    private static string? Misfit(string module, IReadOnlyList<int> down, IReadOnlyList<int> up, IReadOnlyList<int> weight)
    {
        if (down.Count < 2 || up.Count < 1) return null;
        long deltaElements = (long)up[0] * down.Skip(1).Aggregate(1L, (p, d) => p * d);
        long weightElements = weight.Aggregate(1L, (p, d) => p * d);
        return up[0] == weight[0] && deltaElements == weightElements
            ? null
            : $"ΔW [{up[0]}, {string.Join(", ", down.Skip(1))}] does not fit the model's {module}.weight [{string.Join(", ", weight)}] (a LoRA for another model?)";
    }

    private static LoraLayerDelta Build(SafeTensorsReader reader, LoraComponent component, string module, ParsedLoraKey down, ParsedLoraKey up,
        ParsedLoraKey? alphaKey, PeftAdapterConfig? peft)
    {
        var downShape = reader.GetInfo(down.Key).Shape;
        float? alpha = null;
        if (alphaKey is not null)
        {
            var values = reader.ReadF32(alphaKey.Key);
            if (values.Length != 1)
                throw new InteropFileException(reader.Path, $"tensor '{alphaKey.Key}' has {values.Length} values; expected a scalar alpha.");
            alpha = values[0];
        }
        else if (peft is not null && downShape.Count > 0)
        {
            alpha = peft.AlphaFor(downShape[0]);
        }
        try
        {
            return new LoraLayerDelta(component, module, reader.ReadF32(down.Key), downShape, reader.ReadF32(up.Key), reader.GetInfo(up.Key).Shape, alpha);
        }
        catch (ArgumentException e)
        {
            throw new InteropFileException(reader.Path, $"tensors '{down.Key}' and '{up.Key}' do not form a LoRA layer: {e.Message}", e);
        }
    }
}
