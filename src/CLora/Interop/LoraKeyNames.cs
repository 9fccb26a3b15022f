namespace IlgpuDiffusion.CLora.Interop;

/// <summary>The key prefixes and suffixes of the kohya and diffusers LoRA dialects, shared by the reader and the writers.</summary>
internal static class LoraKeyNames
{
    public const string KohyaDown = "lora_down.weight", KohyaUp = "lora_up.weight", Alpha = "alpha";

    public const string DiffusersDown = ".lora.down.weight", DiffusersUp = ".lora.up.weight";

    /// <summary><c>lora_unet_</c> or <c>lora_te_</c>.</summary>
    public static string KohyaPrefix(LoraComponent component) => component switch
    {
        LoraComponent.UNet => "lora_unet_",
        LoraComponent.TextEncoder => "lora_te_",
        _ => throw new ArgumentOutOfRangeException(nameof(component), component, null),
    };

    /// <summary><c>unet.</c> or <c>text_encoder.</c>.</summary>
    public static string DiffusersPrefix(LoraComponent component) => component switch
    {
        LoraComponent.UNet => "unet.",
        LoraComponent.TextEncoder => "text_encoder.",
        _ => throw new ArgumentOutOfRangeException(nameof(component), component, null),
    };

    /// <summary>kohya's flat module name: the prefix, then the dotted module name with every '.' replaced by '_'.</summary>
    public static string KohyaModule(LoraComponent component, string module) => KohyaPrefix(component) + Flatten(module);

    /// <summary>A dotted module name with '.' → '_', as kohya writes it (ambiguous to reverse: module names contain '_').</summary>
    public static string Flatten(string module) => module.Replace('.', '_');
}
