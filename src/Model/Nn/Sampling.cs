using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Loading;

namespace IlgpuDiffusion.Model.Nn;

/// <summary>
/// diffusers' Downsample2D with a conv: a 3×3 stride-2 conv. The UNet pads it by 1 on every side; the VAE encoder
/// pads (0, 1, 0, 1) — right and bottom only — and the conv itself pads nothing.
/// </summary>
public sealed class Downsample2D : Module
{
    private readonly Conv2dLayer conv;

    public Downsample2D(WeightSet weights, string prefix, int channels, bool asymmetricPadding)
    {
        var parameters = asymmetricPadding ? new Conv2dParams(2, 2, 0, 1, 0, 1) : Conv2dParams.Symmetric(2, 1);
        conv = AddChild(Conv2dLayer.Load(weights, prefix + "conv", channels, channels, 3, parameters));
    }

    public Var Forward(Var x) => conv.Forward(x);
}

/// <summary>
/// diffusers' Upsample2D with a conv: nearest-neighbour upsampling (2×, or to an explicit size such as a skip
/// connection's when the latent size is not divisible by 8) followed by a 3×3 conv.
/// </summary>
public sealed class Upsample2D : Module
{
    private readonly Conv2dLayer conv;

    public Upsample2D(WeightSet weights, string prefix, int channels)
        => conv = AddChild(Conv2dLayer.Load(weights, prefix + "conv", channels, channels, 3, Conv2dParams.Symmetric(1, 1)));

    /// <summary>x [N, H, W, C] → [N, height, width, C] (default 2H × 2W), then the conv.</summary>
    public Var Forward(Var x, int? height = null, int? width = null)
    {
        using var up = Ops.UpsampleNearest(x, height ?? 2 * x.Shape[1], width ?? 2 * x.Shape[2]);
        return conv.Forward(up);
    }
}
