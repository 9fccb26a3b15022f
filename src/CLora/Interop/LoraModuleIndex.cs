using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;

namespace IlgpuDiffusion.CLora.Interop;

/// <summary>
/// The modules a LoRA can adapt, per component, under their diffusers names (a tensor <c>X.weight</c> makes module
/// <c>X</c>) with their weight shapes, and the lookup that turns kohya's flat names back into them. kohya writes a
/// module name with every '.' replaced by '_', which cannot be undone by rule (module names contain '_':
/// <c>transformer_blocks</c>, <c>to_k</c>, <c>proj_in</c>), so the flat names of the real modules are indexed instead.
/// With a UNet config, the flat LDM/CompVis names older kohya files use (<c>input_blocks_1_1_…</c>) are indexed too.
/// <code>
/// var modules = LoraModuleIndex.From(checkpoint);
/// var lora = LoraFile.Read("style.safetensors", modules);
/// </code>
/// </summary>
public sealed class LoraModuleIndex
{
    private const string WeightSuffix = ".weight";

    private readonly Dictionary<LoraComponent, Dictionary<string, IReadOnlyList<int>>> shapes = [];
    private readonly Dictionary<LoraComponent, Dictionary<string, string?>> flat = [];

    /// <summary>
    /// Indexes the tensors <paramref name="unetWeights"/> and <paramref name="textEncoderWeights"/> (diffusers
    /// tensor name → shape, e.g. a <c>WeightSet</c>'s <c>Names</c> and <c>ShapeOf</c>); with
    /// <paramref name="unetConfig"/>, also the UNet's LDM names.
    /// </summary>
    public LoraModuleIndex(IReadOnlyDictionary<string, IReadOnlyList<int>> unetWeights, IReadOnlyDictionary<string, IReadOnlyList<int>> textEncoderWeights,
        UNetConfig? unetConfig = null)
    {
        ArgumentNullException.ThrowIfNull(unetWeights);
        ArgumentNullException.ThrowIfNull(textEncoderWeights);
        Index(LoraComponent.UNet, unetWeights);
        Index(LoraComponent.TextEncoder, textEncoderWeights);
        if (unetConfig is null) return;
        foreach (var (diffusers, ldm) in LdmUNetNames.ToLdm(unetConfig, unetWeights.Keys.Where(IsWeight)))
            AddFlat(LoraComponent.UNet, LoraKeyNames.Flatten(ldm[..^WeightSuffix.Length]), diffusers[..^WeightSuffix.Length]);
    }

    /// <summary>The UNet and text-encoder modules of an opened checkpoint, with the UNet's LDM names from its config.</summary>
    public static LoraModuleIndex From(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return new LoraModuleIndex(Shapes(checkpoint.UNet), Shapes(checkpoint.TextEncoder), checkpoint.Config.UNet);
    }

    /// <summary>The diffusers names of the component's modules, sorted.</summary>
    public IReadOnlyList<string> Modules(LoraComponent component) => [.. shapes[component].Keys.Order(StringComparer.Ordinal)];

    /// <summary>The shape of the module's weight, or null when the component has no such module.</summary>
    public IReadOnlyList<int>? WeightShape(LoraComponent component, string module) =>
        shapes[component].TryGetValue(module, out var shape) ? shape : null;

    /// <summary>
    /// The module whose flat name (dots → '_', diffusers or LDM) is <paramref name="flatName"/>, or null with the
    /// reason in <paramref name="problem"/>.
    /// </summary>
    internal string? ResolveFlat(LoraComponent component, string flatName, out string problem)
    {
        problem = "";
        if (!flat[component].TryGetValue(flatName, out var module))
            problem = $"no {Describe(component)} module is named '{flatName}' with '_' for '.'";
        else if (module is null)
            problem = $"'{flatName}' is ambiguous: several {Describe(component)} modules flatten to it";
        return module;
    }

    internal static string Describe(LoraComponent component) => component == LoraComponent.UNet ? "UNet" : "text encoder";

    private void Index(LoraComponent component, IReadOnlyDictionary<string, IReadOnlyList<int>> weights)
    {
        shapes[component] = new(StringComparer.Ordinal);
        flat[component] = new(StringComparer.Ordinal);
        foreach (var (name, shape) in weights.Where(w => IsWeight(w.Key)))
        {
            var module = name[..^WeightSuffix.Length];
            shapes[component][module] = shape;
            AddFlat(component, LoraKeyNames.Flatten(module), module);
        }
    }

    private void AddFlat(LoraComponent component, string flatName, string module)
    {
        var map = flat[component];
        if (!map.TryAdd(flatName, module) && map[flatName] != module) map[flatName] = null;
    }

    private static bool IsWeight(string name) => name.EndsWith(WeightSuffix, StringComparison.Ordinal);

    private static Dictionary<string, IReadOnlyList<int>> Shapes(WeightSet weights) =>
        weights.Names.ToDictionary(name => name, weights.ShapeOf, StringComparer.Ordinal);
}
