using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.UNet;

/// <summary>
/// diffusers' BasicTransformerBlock (layer norms, eps 1e-5): x += attn1(norm1(x)) (self-attention, or attention to
/// the text when only_cross_attention); x += attn2(norm2(x), text) (cross-attention); x += ff(norm3(x)) with the
/// GEGLU feed-forward <c>ff.net.0.proj</c> [2·4C, C] → hidden·GELU(gate) → <c>ff.net.2</c> [C, 4C]. The query, key
/// and value projections have no bias. <see cref="CrossAttention"/>'s Key and Value are C-LoRA's target layers.
/// </summary>
public sealed class BasicTransformerBlock : Module
{
    private const float LayerNormEps = 1e-5f;
    private const int FeedForwardMultiplier = 4;

    private readonly bool onlyCrossAttention;
    private readonly LayerNormLayer norm1, norm2, norm3;
    private readonly LinearLayer feedForwardIn, feedForwardOut;

    /// <summary>Loads the block under <paramref name="prefix"/> (e.g. <c>down_blocks.0.attentions.1.transformer_blocks.0.</c>).</summary>
    public BasicTransformerBlock(WeightSet weights, string prefix, int channels, int heads, int crossAttentionDim, bool onlyCrossAttention)
    {
        Prefix = prefix;
        this.onlyCrossAttention = onlyCrossAttention;
        int inner = FeedForwardMultiplier * channels;
        norm1 = AddChild(new LayerNormLayer(weights, prefix + "norm1", channels, LayerNormEps));
        SelfAttention = AddChild(new MultiHeadAttention(weights, prefix + "attn1.", AttentionNames.Diffusers, channels,
            onlyCrossAttention ? crossAttentionDim : channels, heads, projectionBias: false));
        norm2 = AddChild(new LayerNormLayer(weights, prefix + "norm2", channels, LayerNormEps));
        CrossAttention = AddChild(new MultiHeadAttention(weights, prefix + "attn2.", AttentionNames.Diffusers, channels,
            crossAttentionDim, heads, projectionBias: false));
        norm3 = AddChild(new LayerNormLayer(weights, prefix + "norm3", channels, LayerNormEps));
        feedForwardIn = AddChild(LinearLayer.Load(weights, prefix + "ff.net.0.proj", channels, 2 * inner));
        feedForwardOut = AddChild(LinearLayer.Load(weights, prefix + "ff.net.2", inner, channels));
    }

    /// <summary>The block's diffusers name with a trailing dot.</summary>
    public string Prefix { get; }

    /// <summary><c>attn1</c>: self-attention over the image tokens.</summary>
    public MultiHeadAttention SelfAttention { get; }

    /// <summary><c>attn2</c>: the image tokens attend to the text (encoder hidden states).</summary>
    public MultiHeadAttention CrossAttention { get; }

    /// <summary>x [N, L, C] (image tokens); <paramref name="context"/> [N, Lt, cross_attention_dim] (text).</summary>
    public Var Forward(Var x, Var context)
    {
        Var afterSelf, afterCross;
        using (var normed = norm1.Forward(x))
        using (var attended = SelfAttention.Forward(normed, onlyCrossAttention ? context : null))
            afterSelf = Ops.Add(attended, x);
        using (afterSelf)
        using (var normed = norm2.Forward(afterSelf))
        using (var attended = CrossAttention.Forward(normed, context))
            afterCross = Ops.Add(attended, afterSelf);
        using (afterCross)
        using (var normed = norm3.Forward(afterCross))
        using (var fed = FeedForward(normed))
            return Ops.Add(fed, afterCross);
    }

    /// <summary>ff.net.2(GEGLU(ff.net.0.proj(x))); without an adapter on the projection, its GEGLU may be fused (<see cref="Ops.LinearGeglu"/>).</summary>
    private Var FeedForward(Var x)
    {
        using var gated = feedForwardIn.Adapter is null ? Ops.LinearGeglu(x, feedForwardIn.Weight, feedForwardIn.Bias) : AdaptedGeglu(x);
        return feedForwardOut.Forward(gated);
    }

    private Var AdaptedGeglu(Var x)
    {
        using var projected = feedForwardIn.Forward(x);
        return Ops.Geglu(projected);
    }
}
