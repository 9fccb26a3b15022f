using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.Vae;

/// <summary>
/// One decoder level (diffusers' UpDecoderBlock2D): a <see cref="VaeResnetStack"/> of the encoder's layers per block
/// + 1 resnets, then, except at the last level, a nearest 2× upsample and a 3×3 conv.
/// </summary>
public sealed class UpDecoderBlock2D : Module
{
    private readonly VaeResnetStack resnets;
    private readonly Upsample2D? upsampler;

    /// <summary>Loads <c>{prefix}resnets.*</c> and, if <paramref name="upsample"/>, <c>{prefix}upsamplers.0</c>.</summary>
    public UpDecoderBlock2D(WeightSet weights, string prefix, int inChannels, int outChannels, int layers, int groups, bool upsample)
    {
        resnets = AddChild(new VaeResnetStack(weights, prefix, inChannels, outChannels, layers, groups));
        if (upsample) upsampler = AddChild(new Upsample2D(weights, prefix + "upsamplers.0.", outChannels));
    }

    /// <summary>x [N, H, W, Cin] → [N, 2H, 2W, Cout] (H, W at the last level).</summary>
    public Var Forward(Var x)
    {
        var h = resnets.Forward(x);
        if (upsampler is null) return h;
        using (h) return upsampler.Forward(h);
    }
}
