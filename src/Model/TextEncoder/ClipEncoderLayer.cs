using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.TextEncoder;

/// <summary>
/// One pre-LN layer of transformers' CLIPEncoder: h = x + self_attn(layer_norm1(x)) with a causal mask, then
/// out = h + fc2(act(fc1(layer_norm2(h)))), where act is the config's <c>hidden_act</c> (quick_gelu or gelu).
/// </summary>
public sealed class ClipEncoderLayer : Module
{
    private readonly LayerNormLayer layerNorm1, layerNorm2;
    private readonly LinearLayer fc1, fc2;
    private readonly ActivationKind activation;

    /// <summary>Loads the layer under <paramref name="prefix"/> (e.g. <c>text_model.encoder.layers.3.</c>).</summary>
    public ClipEncoderLayer(ClipTextConfig config, WeightSet weights, string prefix)
    {
        int width = config.HiddenSize;
        float eps = (float)config.LayerNormEps;
        activation = ActivationOf(config.HiddenAct);
        layerNorm1 = AddChild(new LayerNormLayer(weights, prefix + "layer_norm1", width, eps));
        SelfAttention = AddChild(new MultiHeadAttention(weights, prefix + "self_attn.", AttentionNames.Clip, width, width,
            config.NumAttentionHeads, projectionBias: true));
        layerNorm2 = AddChild(new LayerNormLayer(weights, prefix + "layer_norm2", width, eps));
        fc1 = AddChild(LinearLayer.Load(weights, prefix + "mlp.fc1", width, config.IntermediateSize));
        fc2 = AddChild(LinearLayer.Load(weights, prefix + "mlp.fc2", config.IntermediateSize, width));
    }

    /// <summary>The causal self-attention (q/k/v/out_proj, with biases).</summary>
    public MultiHeadAttention SelfAttention { get; }

    /// <summary>x [N, L, C] → [N, L, C].</summary>
    public Var Forward(Var x)
    {
        Var h;
        using (var normed = layerNorm1.Forward(x))
        using (var attended = SelfAttention.Forward(normed, causal: true))
            h = Ops.Add(x, attended);
        using (h)
        using (var normed = layerNorm2.Forward(h))
        using (var inner = fc1.Forward(normed))
        using (var activated = Ops.Activation(inner, activation))
        using (var mlp = fc2.Forward(activated))
            return Ops.Add(h, mlp);
    }

    /// <summary>transformers' <c>hidden_act</c> names this engine implements.</summary>
    private static ActivationKind ActivationOf(string hiddenAct) => hiddenAct switch
    {
        "quick_gelu" => ActivationKind.QuickGelu,
        "gelu" => ActivationKind.Gelu,
        _ => throw new NotSupportedException($"text encoder hidden_act '{hiddenAct}' is not supported (expected quick_gelu or gelu)."),
    };
}
