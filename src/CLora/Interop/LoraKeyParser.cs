namespace IlgpuDiffusion.CLora.Interop;

/// <summary>
/// Parses the tensor names of the kohya, diffusers and PEFT LoRA dialects (see <see cref="LoraDialect"/>) and resolves
/// them against a <see cref="LoraModuleIndex"/>.
/// </summary>
internal static class LoraKeyParser
{
    /// <summary>The suffixes of the dotted dialects, longest match first where one ends another.</summary>
    private static readonly (string Suffix, LoraDialect Dialect, LoraKeyRole Role)[] DottedSuffixes =
    [
        (LoraKeyNames.DiffusersDown, LoraDialect.Diffusers, LoraKeyRole.Down),
        (LoraKeyNames.DiffusersUp, LoraDialect.Diffusers, LoraKeyRole.Up),
        (".lora_linear_layer.down.weight", LoraDialect.Diffusers, LoraKeyRole.Down),
        (".lora_linear_layer.up.weight", LoraDialect.Diffusers, LoraKeyRole.Up),
        (ProcessorSuffix + ".down.weight", LoraDialect.Diffusers, LoraKeyRole.Down),
        (ProcessorSuffix + ".up.weight", LoraDialect.Diffusers, LoraKeyRole.Up),
        (".lora_A.weight", LoraDialect.Peft, LoraKeyRole.Down),
        (".lora_B.weight", LoraDialect.Peft, LoraKeyRole.Up),
        (".lora_magnitude_vector.weight", LoraDialect.Peft, LoraKeyRole.Unsupported),
        (".lora_magnitude_vector", LoraDialect.Peft, LoraKeyRole.Unsupported),
        ("." + LoraKeyNames.Alpha, LoraDialect.Diffusers, LoraKeyRole.Alpha),
    ];

    /// <summary>The attention-processor form names the projection <c>to_k_lora</c> (<c>….attn2.processor.to_k_lora.down.weight</c>).</summary>
    private const string ProcessorSuffix = "_lora";

    private const string KohyaFamily = "lora_";

    /// <summary>PEFT wraps the model: <c>base_model.model.&lt;module&gt;</c>.</summary>
    private const string PeftPrefix = "base_model.model.";

    /// <summary>The key's module and role, or null with the reason in <paramref name="problem"/> when it names no module of the model.</summary>
    public static ParsedLoraKey? Parse(string key, LoraModuleIndex modules, out string problem)
    {
        foreach (var component in Enum.GetValues<LoraComponent>())
            if (key.StartsWith(LoraKeyNames.KohyaPrefix(component), StringComparison.Ordinal))
                return ParseKohya(key, component, modules, out problem);
        foreach (var (suffix, dialect, role) in DottedSuffixes)
            if (key.EndsWith(suffix, StringComparison.Ordinal))
                return ParseDotted(key, key[..^suffix.Length], suffix, dialect, role, modules, out problem);
        problem = key.StartsWith(KohyaFamily, StringComparison.Ordinal)
            ? "a kohya key for no SD 1.x network (expected lora_unet_… or lora_te_…; lora_te1_/lora_te2_ are SDXL's text encoders)"
            : "not a LoRA tensor name (expected kohya lora_unet_….lora_down.weight, diffusers unet.….lora.down.weight or PEFT ….lora_A.weight)";
        return null;
    }

    private static ParsedLoraKey? ParseKohya(string key, LoraComponent component, LoraModuleIndex modules, out string problem)
    {
        int dot = key.IndexOf('.');
        if (dot < 0)
        {
            problem = "a kohya key without a '.lora_down.weight', '.lora_up.weight' or '.alpha' part";
            return null;
        }
        var suffix = key[(dot + 1)..];
        var role = suffix switch
        {
            LoraKeyNames.KohyaDown => LoraKeyRole.Down,
            LoraKeyNames.KohyaUp => LoraKeyRole.Up,
            LoraKeyNames.Alpha => LoraKeyRole.Alpha,
            _ => LoraKeyRole.Unsupported,
        };
        var module = modules.ResolveFlat(component, key[LoraKeyNames.KohyaPrefix(component).Length..dot], out problem);
        return module is null ? null : new ParsedLoraKey(key, LoraDialect.Kohya, role, suffix, component, module);
    }

    private static ParsedLoraKey? ParseDotted(string key, string stem, string suffix, LoraDialect dialect, LoraKeyRole role, LoraModuleIndex modules,
        out string problem)
    {
        LoraComponent[] candidates = [LoraComponent.UNet, LoraComponent.TextEncoder];
        foreach (var component in candidates)
            if (stem.StartsWith(LoraKeyNames.DiffusersPrefix(component), StringComparison.Ordinal))
            {
                candidates = [component];
                stem = stem[LoraKeyNames.DiffusersPrefix(component).Length..];
            }
        if (stem.StartsWith(PeftPrefix, StringComparison.Ordinal)) stem = stem[PeftPrefix.Length..];
        bool processor = suffix.StartsWith(ProcessorSuffix, StringComparison.Ordinal);
        string tried = "";
        foreach (var component in candidates)
        {
            var module = processor ? ProcessorModule(component, stem) : stem;
            tried = module;
            if (modules.WeightShape(component, module) is not null)
            {
                problem = "";
                return new ParsedLoraKey(key, dialect, role, suffix, component, module);
            }
        }
        problem = $"no {string.Join(" or ", candidates.Select(LoraModuleIndex.Describe))} module is named '{tried}'";
        return null;
    }

    /// <summary>
    /// The module an attention-processor LoRA adapts: <c>attn2.processor.to_k</c> → <c>attn2.to_k</c>,
    /// <c>to_out</c> → <c>to_out.0</c> in the UNet; in the text encoder (<c>self_attn.to_q_lora</c>) <c>to_q</c> →
    /// <c>q_proj</c>, <c>to_out</c> → <c>out_proj</c>.
    /// </summary>
    private static string ProcessorModule(LoraComponent component, string stem)
    {
        var parts = stem.Split('.').Where(part => part != "processor").ToList();
        var projection = parts[^1];
        parts[^1] = (component, projection) switch
        {
            (LoraComponent.UNet, "to_out") => "to_out.0",
            (LoraComponent.TextEncoder, "to_out") => "out_proj",
            (LoraComponent.TextEncoder, "to_q" or "to_k" or "to_v") => $"{projection[^1]}_proj",
            _ => projection,
        };
        return string.Join('.', parts);
    }
}
