using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.TextEncoder;

/// <summary>The sub-module names of a pre-LN transformer encoder layer (<see cref="ClipEncoderLayer"/>), relative to the layer's prefix.</summary>
public sealed record EncoderLayerNames(string LayerNorm1, AttentionNames Attention, string LayerNorm2, string Fc1, string Fc2)
{
    /// <summary>transformers' CLIPEncoderLayer (text and vision towers).</summary>
    public static EncoderLayerNames Clip { get; } = new("layer_norm1",
        new AttentionNames("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj"), "layer_norm2", "mlp.fc1", "mlp.fc2");

    /// <summary>transformers' ViTLayer (DINO checkpoints): the same pre-LN layer under other names.</summary>
    public static EncoderLayerNames Vit { get; } = new("layernorm_before",
        new AttentionNames("attention.attention.query", "attention.attention.key", "attention.attention.value", "attention.output.dense"),
        "layernorm_after", "intermediate.dense", "output.dense");
}

/// <summary>
/// The shape of one pre-LN encoder layer: width, heads, MLP width, transformers' <c>hidden_act</c>, the layer norms'
/// eps, whether the self-attention is causal (CLIP's text tower) and whether q/k/v carry biases.
/// </summary>
public sealed record EncoderLayerSpec(int Width, int Heads, int IntermediateSize, string HiddenAct, double LayerNormEps,
    bool Causal, bool QkvBias, EncoderLayerNames Names);
