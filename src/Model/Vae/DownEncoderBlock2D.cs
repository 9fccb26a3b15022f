using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.Vae;

/// <summary>
/// One encoder level (diffusers' DownEncoderBlock2D): a <see cref="VaeResnetStack"/>, then, except at the last
/// level, a stride-2 conv padded (0, 1, 0, 1) that halves H and W.
/// </summary>
public sealed class DownEncoderBlock2D : Module
{
    private readonly VaeResnetStack resnets;
    private readonly Downsample2D? downsampler;

    /// <summary>Loads <c>{prefix}resnets.*</c> and, if <paramref name="downsample"/>, <c>{prefix}downsamplers.0</c>.</summary>
    public DownEncoderBlock2D(WeightSet weights, string prefix, int inChannels, int outChannels, int layers, int groups, bool downsample)
    {
        resnets = AddChild(new VaeResnetStack(weights, prefix, inChannels, outChannels, layers, groups));
        if (downsample) downsampler = AddChild(new Downsample2D(weights, prefix + "downsamplers.0.", outChannels, asymmetricPadding: true));
    }

    /// <summary>x [N, H, W, Cin] → [N, H', W', Cout].</summary>
    public Var Forward(Var x)
    {
        var h = resnets.Forward(x);
        if (downsampler is null) return h;
        using (h) return downsampler.Forward(h);
    }
}
