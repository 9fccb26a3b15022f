using System.Text.Json;

namespace IlgpuDiffusion.CLora.Interop;

/// <summary>
/// The scale of a PEFT LoRA, which its safetensors file does not hold: PEFT's <c>save_pretrained</c> writes
/// <c>adapter_config.json</c> beside <c>adapter_model.safetensors</c>, with <c>lora_alpha</c> (scale =
/// lora_alpha / r, or lora_alpha / √r with <c>use_rslora</c>). Per-module <c>alpha_pattern</c> overrides are refused.
/// </summary>
internal sealed class PeftAdapterConfig
{
    public const string FileName = "adapter_config.json";

    private PeftAdapterConfig(double loraAlpha, bool rsLora)
    {
        LoraAlpha = loraAlpha;
        RsLora = rsLora;
    }

    public double LoraAlpha { get; }

    public bool RsLora { get; }

    /// <summary>The config beside <paramref name="loraPath"/>, or null when there is none (or it gives no <c>lora_alpha</c>).</summary>
    public static PeftAdapterConfig? Beside(string loraPath)
    {
        var path = Path.Combine(Path.GetDirectoryName(loraPath) ?? ".", FileName);
        if (!File.Exists(path)) return null;
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(path));
            var root = json.RootElement;
            if (root.TryGetProperty("alpha_pattern", out var pattern) && pattern.ValueKind == JsonValueKind.Object && pattern.EnumerateObject().Any())
                throw new InteropFileException(path, "alpha_pattern (per-module LoRA alphas) is not supported; merge the LoRA in PEFT and save it again.");
            if (!root.TryGetProperty("lora_alpha", out var alpha) || alpha.ValueKind != JsonValueKind.Number) return null;
            bool rsLora = root.TryGetProperty("use_rslora", out var rs) && rs.ValueKind == JsonValueKind.True;
            return new PeftAdapterConfig(alpha.GetDouble(), rsLora);
        }
        catch (JsonException e)
        {
            throw new InteropFileException(path, $"not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>kohya's alpha for a layer of rank <paramref name="rank"/>: alpha / rank equals PEFT's scale.</summary>
    public float AlphaFor(int rank) => (float)(RsLora ? LoraAlpha * Math.Sqrt(rank) : LoraAlpha);
}
