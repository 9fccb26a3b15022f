using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.TextEncoder;

namespace IlgpuDiffusion.Evaluation.Models;

/// <summary>
/// The architecture of a ViT image tower: transformers' <c>CLIPVisionConfig</c> (CLIPConfig's <c>vision_config</c>)
/// or <c>ViTConfig</c> (a DINO checkpoint's config.json). Absent keys take that class's defaults.
/// </summary>
public sealed record VisionConfig
{
    public required int HiddenSize { get; init; }

    public required int NumHiddenLayers { get; init; }

    public required int NumAttentionHeads { get; init; }

    public required int IntermediateSize { get; init; }

    /// <summary>The square input resolution (224 for the public checkpoints).</summary>
    public required int ImageSize { get; init; }

    public required int PatchSize { get; init; }

    public required int NumChannels { get; init; }

    /// <summary>"quick_gelu" (CLIP) or "gelu" (exact erf GELU, ViT/DINO).</summary>
    public required string HiddenAct { get; init; }

    public required double LayerNormEps { get; init; }

    /// <summary>Whether q/k/v carry biases (always in CLIP; ViT's <c>qkv_bias</c>).</summary>
    public required bool QkvBias { get; init; }

    /// <summary>Patches per side.</summary>
    public int GridSize => ImageSize / PatchSize;

    /// <summary>Tokens per image: the patches and the class token.</summary>
    public int Tokens => GridSize * GridSize + 1;

    /// <summary>The encoder layers' shape, with <paramref name="names"/>.</summary>
    internal EncoderLayerSpec LayerSpec(EncoderLayerNames names) =>
        new(HiddenSize, NumAttentionHeads, IntermediateSize, HiddenAct, LayerNormEps, Causal: false, QkvBias, names);

    /// <summary>CLIPVisionConfig from CLIPConfig's <c>vision_config</c> section.</summary>
    internal static VisionConfig ClipVision(ConfigJson json) => Validated(json, new VisionConfig
    {
        HiddenSize = json.Int("hidden_size", 768),
        NumHiddenLayers = json.Int("num_hidden_layers", 12),
        NumAttentionHeads = json.Int("num_attention_heads", 12),
        IntermediateSize = json.Int("intermediate_size", 3072),
        ImageSize = json.Int("image_size", 224),
        PatchSize = json.Int("patch_size", 32),
        NumChannels = json.Int("num_channels", 3),
        HiddenAct = json.String("hidden_act", "quick_gelu"),
        LayerNormEps = json.Double("layer_norm_eps", 1e-5),
        QkvBias = true,
    });

    /// <summary>ViTConfig from a ViT/DINO config.json.</summary>
    internal static VisionConfig Vit(ConfigJson json) => Validated(json, new VisionConfig
    {
        HiddenSize = json.Int("hidden_size", 768),
        NumHiddenLayers = json.Int("num_hidden_layers", 12),
        NumAttentionHeads = json.Int("num_attention_heads", 12),
        IntermediateSize = json.Int("intermediate_size", 3072),
        ImageSize = json.Int("image_size", 224),
        PatchSize = json.Int("patch_size", 16),
        NumChannels = json.Int("num_channels", 3),
        HiddenAct = json.String("hidden_act", "gelu"),
        LayerNormEps = json.Double("layer_norm_eps", 1e-12),
        QkvBias = json.Bool("qkv_bias", true),
    });

    private static VisionConfig Validated(ConfigJson json, VisionConfig config)
    {
        if (config.HiddenSize < 1 || config.NumHiddenLayers < 1 || config.IntermediateSize < 1 || config.NumChannels < 1)
            throw json.Invalid("hidden_size", "hidden_size, num_hidden_layers, intermediate_size and num_channels must be positive");
        if (config.NumAttentionHeads < 1 || config.HiddenSize % config.NumAttentionHeads != 0)
            throw json.Invalid("num_attention_heads", $"{config.NumAttentionHeads} heads do not divide hidden_size {config.HiddenSize}");
        if (config.PatchSize < 1 || config.ImageSize < config.PatchSize || config.ImageSize % config.PatchSize != 0)
            throw json.Invalid("patch_size", $"patch_size {config.PatchSize} must divide image_size {config.ImageSize}");
        if (config.HiddenAct is not ("quick_gelu" or "gelu"))
            throw json.Invalid("hidden_act", $"'{config.HiddenAct}' is not supported (expected quick_gelu or gelu)");
        return config;
    }
}
