using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.Vae;

/// <summary>diffusers' UNetMidBlock2D as the VAE uses it: resnet → <see cref="VaeAttentionBlock"/> → resnet, at one width.</summary>
public sealed class VaeMidBlock : Module
{
    private readonly ResnetBlock2D first, second;
    private readonly VaeAttentionBlock attention;

    /// <summary>Loads <c>{prefix}resnets.0</c>, <c>{prefix}attentions.0</c> and <c>{prefix}resnets.1</c>.</summary>
    public VaeMidBlock(WeightSet weights, string prefix, int channels, int groups)
    {
        first = AddChild(new ResnetBlock2D(weights, prefix + "resnets.0.", channels, channels, 0, groups, AutoencoderKL.NormEps));
        attention = AddChild(new VaeAttentionBlock(weights, prefix + "attentions.0.", channels, groups));
        second = AddChild(new ResnetBlock2D(weights, prefix + "resnets.1.", channels, channels, 0, groups, AutoencoderKL.NormEps));
    }

    /// <summary>x [N, H, W, C] → [N, H, W, C].</summary>
    public Var Forward(Var x)
    {
        using var a = first.Forward(x, null);
        using var b = attention.Forward(a);
        return second.Forward(b, null);
    }
}
