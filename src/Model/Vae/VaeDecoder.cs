using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.Vae;

/// <summary>
/// diffusers' VAE Decoder under <c>decoder.*</c>: conv_in from the latent channels → <see cref="VaeMidBlock"/> →
/// one <see cref="UpDecoderBlock2D"/> per level, widths reversed (all but the last double the size) →
/// conv_norm_out + SiLU → conv_out to the image channels.
/// </summary>
public sealed class VaeDecoder : Module
{
    private const string Prefix = "decoder.";

    private readonly Conv2dLayer convIn, convOut;
    private readonly VaeMidBlock mid;
    private readonly IReadOnlyList<UpDecoderBlock2D> upBlocks;
    private readonly GroupNormLayer normOut;

    public VaeDecoder(VaeConfig config, WeightSet weights)
    {
        var widths = config.BlockOutChannels.Reverse().ToArray();
        int groups = config.NormNumGroups;
        var same = Conv2dParams.Symmetric(1, 1);
        convIn = AddChild(Conv2dLayer.Load(weights, Prefix + "conv_in", config.LatentChannels, widths[0], 3, same));
        mid = AddChild(new VaeMidBlock(weights, Prefix + "mid_block.", widths[0], groups));
        upBlocks = [.. widths.Select((width, i) => AddChild(new UpDecoderBlock2D(weights, $"{Prefix}up_blocks.{i}.",
            i == 0 ? widths[0] : widths[i - 1], width, config.LayersPerBlock + 1, groups, upsample: i < widths.Length - 1)))];
        normOut = AddChild(new GroupNormLayer(weights, Prefix + "conv_norm_out", widths[^1], groups, AutoencoderKL.NormEps));
        convOut = AddChild(Conv2dLayer.Load(weights, Prefix + "conv_out", widths[^1], config.OutChannels, 3, same));
    }

    /// <summary>z [N, h, w, latent channels] (after post_quant_conv) → image [N, h·f, w·f, Cout], f = 2^(levels − 1).</summary>
    public Var Forward(Var z)
    {
        var h = convIn.Forward(z);
        using (var input = h) h = mid.Forward(input);
        foreach (var block in upBlocks)
            using (var input = h)
                h = block.Forward(input);
        using (h)
        using (var activated = normOut.Forward(h, silu: true))
            return convOut.Forward(activated);
    }
}
