using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.TextEncoder;

/// <summary>
/// One pre-LN layer of transformers' CLIPEncoder: h = x + self_attn(layer_norm1(x)) (causal in the text tower), then
/// out = h + fc2(act(fc1(layer_norm2(h)))), where act is the config's <c>hidden_act</c> (quick_gelu or gelu).
/// transformers' ViTLayer is the same layer under other names (<see cref="EncoderLayerNames.Vit"/>).
/// </summary>
public sealed class ClipEncoderLayer : Module
{
    private readonly LayerNormLayer layerNorm1, layerNorm2;
    private readonly LinearLayer fc1, fc2;
    private readonly ActivationKind activation;
    private readonly bool causal;

    /// <summary>Loads a text-tower layer under <paramref name="prefix"/> (e.g. <c>text_model.encoder.layers.3.</c>).</summary>
    public ClipEncoderLayer(ClipTextConfig config, WeightSet weights, string prefix)
        : this(weights, prefix, new EncoderLayerSpec(config.HiddenSize, config.NumAttentionHeads, config.IntermediateSize, config.HiddenAct,
            config.LayerNormEps, Causal: true, QkvBias: true, EncoderLayerNames.Clip))
    {
    }

    /// <summary>Loads a layer of shape <paramref name="spec"/> under <paramref name="prefix"/>.</summary>
    public ClipEncoderLayer(WeightSet weights, string prefix, EncoderLayerSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int width = spec.Width;
        float eps = (float)spec.LayerNormEps;
        var names = spec.Names;
        activation = ActivationOf(spec.HiddenAct);
        causal = spec.Causal;
        layerNorm1 = AddChild(new LayerNormLayer(weights, prefix + names.LayerNorm1, width, eps));
        SelfAttention = AddChild(new MultiHeadAttention(weights, prefix, names.Attention, width, width, spec.Heads, projectionBias: spec.QkvBias));
        layerNorm2 = AddChild(new LayerNormLayer(weights, prefix + names.LayerNorm2, width, eps));
        fc1 = AddChild(LinearLayer.Load(weights, prefix + names.Fc1, width, spec.IntermediateSize));
        fc2 = AddChild(LinearLayer.Load(weights, prefix + names.Fc2, spec.IntermediateSize, width));
    }

    /// <summary>The self-attention (q/k/v/out projections).</summary>
    public MultiHeadAttention SelfAttention { get; }

    /// <summary>x [N, L, C] → [N, L, C].</summary>
    public Var Forward(Var x)
    {
        Var h;
        using (var normed = layerNorm1.Forward(x))
        using (var attended = SelfAttention.Forward(normed, causal: causal))
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
        _ => throw new NotSupportedException($"encoder hidden_act '{hiddenAct}' is not supported (expected quick_gelu or gelu)."),
    };
}
