using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.Vae;

/// <summary>
/// diffusers' VAE Encoder under <c>encoder.*</c>: conv_in → one <see cref="DownEncoderBlock2D"/> per level (all but
/// the last halve the size) → <see cref="VaeMidBlock"/> → conv_norm_out + SiLU → conv_out to 2 × latent channels
/// (the posterior's mean and log-variance, before quant_conv).
/// </summary>
public sealed class VaeEncoder : Module
{
    private const string Prefix = "encoder.";

    private readonly Conv2dLayer convIn, convOut;
    private readonly IReadOnlyList<DownEncoderBlock2D> downBlocks;
    private readonly VaeMidBlock mid;
    private readonly GroupNormLayer normOut;

    public VaeEncoder(VaeConfig config, WeightSet weights)
    {
        var widths = config.BlockOutChannels;
        int groups = config.NormNumGroups, last = widths[^1];
        var same = Conv2dParams.Symmetric(1, 1);
        convIn = AddChild(Conv2dLayer.Load(weights, Prefix + "conv_in", config.InChannels, widths[0], 3, same));
        downBlocks = [.. widths.Select((width, i) => AddChild(new DownEncoderBlock2D(weights, $"{Prefix}down_blocks.{i}.",
            i == 0 ? widths[0] : widths[i - 1], width, config.LayersPerBlock, groups, downsample: i < widths.Count - 1)))];
        mid = AddChild(new VaeMidBlock(weights, Prefix + "mid_block.", last, groups));
        normOut = AddChild(new GroupNormLayer(weights, Prefix + "conv_norm_out", last, groups, AutoencoderKL.NormEps));
        convOut = AddChild(Conv2dLayer.Load(weights, Prefix + "conv_out", last, 2 * config.LatentChannels, 3, same));
    }

    /// <summary>image [N, H, W, Cin] → moments [N, H/f, W/f, 2 × latent channels], f = 2^(levels − 1).</summary>
    public Var Forward(Var image)
    {
        var h = convIn.Forward(image);
        foreach (var block in downBlocks)
            using (var input = h)
                h = block.Forward(input);
        using (var input = h) h = mid.Forward(input);
        using (h)
        using (var activated = normOut.Forward(h, silu: true))
            return convOut.Forward(activated);
    }
}
