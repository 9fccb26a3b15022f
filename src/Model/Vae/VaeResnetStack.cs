using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.Vae;

/// <summary>
/// The resnets of one VAE level, <c>{prefix}resnets.0 … {layers − 1}</c>, without time embedding: the first changes
/// the width from Cin to Cout, the others keep it.
/// </summary>
public sealed class VaeResnetStack : Module
{
    private readonly IReadOnlyList<ResnetBlock2D> resnets;

    public VaeResnetStack(WeightSet weights, string prefix, int inChannels, int outChannels, int layers, int groups)
    {
        if (layers < 1) throw new ArgumentOutOfRangeException(nameof(layers), layers, $"{prefix}: a level needs at least one resnet.");
        resnets = [.. Enumerable.Range(0, layers).Select(i => AddChild(new ResnetBlock2D(weights, $"{prefix}resnets.{i}.",
            i == 0 ? inChannels : outChannels, outChannels, 0, groups, AutoencoderKL.NormEps)))];
    }

    /// <summary>x [N, H, W, Cin] → [N, H, W, Cout].</summary>
    public Var Forward(Var x)
    {
        var h = resnets[0].Forward(x, null);
        foreach (var resnet in resnets.Skip(1))
            using (var input = h)
                h = resnet.Forward(input, null);
        return h;
    }
}
