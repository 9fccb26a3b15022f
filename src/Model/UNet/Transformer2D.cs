using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.UNet;

/// <summary>
/// diffusers' Transformer2DModel over channels-last features: GroupNorm (eps 1e-6) → <c>proj_in</c> → the
/// <see cref="BasicTransformerBlock"/>s over the H·W tokens → <c>proj_out</c> → + the input. proj_in/proj_out are
/// 1×1 convs when the config's use_linear_projection is false (SD 1.x) and linears otherwise; over channels-last
/// activations both are the same GEMM.
/// </summary>
public sealed class Transformer2D : Module
{
    private const float GroupNormEps = 1e-6f;

    private readonly GroupNormLayer norm;
    private readonly LinearLayer projectionIn, projectionOut;

    /// <summary>
    /// Loads the module under <paramref name="prefix"/> (e.g. <c>down_blocks.0.attentions.1.</c>) with the width,
    /// heads and depth of the config's <paramref name="level"/> (up blocks and the mid block mirror a down level).
    /// </summary>
    public Transformer2D(WeightSet weights, string prefix, UNetConfig config, int level, bool onlyCrossAttention)
    {
        int channels = config.BlockOutChannels[level];
        norm = AddChild(new GroupNormLayer(weights, prefix + "norm", channels, config.NormNumGroups, GroupNormEps));
        projectionIn = AddChild(Projection(weights, prefix + "proj_in", channels, config.UseLinearProjection));
        Blocks = [.. Enumerable.Range(0, config.TransformerLayersPerBlock[level]).Select(k => AddChild(new BasicTransformerBlock(
            weights, $"{prefix}transformer_blocks.{k}.", channels, config.AttentionHeads[level], config.CrossAttentionDim, onlyCrossAttention)))];
        projectionOut = AddChild(Projection(weights, prefix + "proj_out", channels, config.UseLinearProjection));
    }

    /// <summary>The transformer blocks, in order.</summary>
    public IReadOnlyList<BasicTransformerBlock> Blocks { get; }

    /// <summary>x [N, H, W, C]; <paramref name="context"/> [N, Lt, cross_attention_dim].</summary>
    public Var Forward(Var x, Var context)
    {
        int n = x.Shape[0], height = x.Shape[1], width = x.Shape[2], channels = x.Shape[3];
        Var tokens;
        using (var normed = norm.Forward(x))
        using (var projected = projectionIn.Forward(normed))
            tokens = Ops.Reshape(projected, n, height * width, channels);
        foreach (var block in Blocks)
            using (var previous = tokens)
                tokens = block.Forward(previous, context);
        using (tokens)
        using (var image = Ops.Reshape(tokens, n, height, width, channels))
        using (var projected = projectionOut.Forward(image))
            return Ops.Add(projected, x);
    }

    private static LinearLayer Projection(WeightSet weights, string name, int channels, bool linear) => linear
        ? LinearLayer.Load(weights, name, channels, channels)
        : LinearLayer.FromConv1x1(weights, name, channels, channels);
}
