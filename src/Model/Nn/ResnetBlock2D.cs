using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Loading;

namespace IlgpuDiffusion.Model.Nn;

/// <summary>
/// diffusers' ResnetBlock2D (default "default" time-embedding norm, scale 1, no dropout at inference):
/// h = conv1(SiLU(norm1(x))) [+ time_emb_proj(SiLU(temb)) per sample]; h = conv2(SiLU(norm2(h)));
/// out = shortcut(x) + h, where the shortcut is a 1×1 <c>conv_shortcut</c> when the channel count changes, added in
/// conv2's own pass at inference (<see cref="Conv2dLayer.Forward(Var, Var)"/>).
/// Used by the UNet (with a time embedding) and the VAE (without).
/// </summary>
public sealed class ResnetBlock2D : Module
{
    private readonly GroupNormLayer norm1, norm2;
    private readonly Conv2dLayer conv1, conv2;
    private readonly LinearLayer? timeProjection, shortcut;

    /// <summary>Loads the block under <paramref name="prefix"/> (e.g. <c>down_blocks.0.resnets.1.</c>); a time embedding width of 0 means none (VAE).</summary>
    public ResnetBlock2D(WeightSet weights, string prefix, int inChannels, int outChannels, int timeEmbeddingChannels, int groups, float eps)
    {
        var same = Conv2dParams.Symmetric(1, 1);
        norm1 = AddChild(new GroupNormLayer(weights, prefix + "norm1", inChannels, groups, eps));
        conv1 = AddChild(Conv2dLayer.Load(weights, prefix + "conv1", inChannels, outChannels, 3, same));
        if (timeEmbeddingChannels > 0)
            timeProjection = AddChild(LinearLayer.Load(weights, prefix + "time_emb_proj", timeEmbeddingChannels, outChannels));
        norm2 = AddChild(new GroupNormLayer(weights, prefix + "norm2", outChannels, groups, eps));
        conv2 = AddChild(Conv2dLayer.Load(weights, prefix + "conv2", outChannels, outChannels, 3, same));
        if (inChannels != outChannels)
            shortcut = AddChild(LinearLayer.FromConv1x1(weights, prefix + "conv_shortcut", inChannels, outChannels));
    }

    /// <summary>x [N, H, W, Cin]; <paramref name="timeEmbedding"/> [N, T] (already the UNet's embedding, before SiLU) or null.</summary>
    public Var Forward(Var x, Var? timeEmbedding)
    {
        Var h;
        using (var a = norm1.Forward(x, silu: true)) h = conv1.Forward(a);
        if (timeProjection is not null)
        {
            if (timeEmbedding is null) throw new ArgumentNullException(nameof(timeEmbedding), "this resnet block needs a time embedding.");
            using var act = Ops.Silu(timeEmbedding);
            using var t = timeProjection.Forward(act);
            using var old = h;
            h = Ops.AddPerSample(old, t);
        }
        using (h)
        using (var a = norm2.Forward(h, silu: true))
        {
            if (shortcut is null) return conv2.Forward(a, residual: x);
            using var s = shortcut.Forward(x);
            return conv2.Forward(a, residual: s);
        }
    }
}
