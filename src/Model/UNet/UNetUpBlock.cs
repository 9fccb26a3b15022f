using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.UNet;

/// <summary>
/// diffusers' CrossAttnUpBlock2D (a transformer after each resnet) or UpBlock2D, mirroring down level
/// Levels − 1 − i: layers_per_block + 1 resnets, each fed the channel concatenation of the hidden state and the
/// next popped skip connection, then an <see cref="Upsample2D"/> except on the last block, which resizes to the next
/// skip connection's spatial size (2× unless the latent size is not a multiple of 2^(levels−1): diffusers'
/// upsample_size).
/// </summary>
internal sealed class UNetUpBlock : UNetBlock
{
    private readonly ResnetBlock2D[] resnets;
    private readonly Transformer2D[]? attentions;
    private readonly Upsample2D? upsampler;

    public UNetUpBlock(WeightSet weights, UNetConfig config, int index) : base(config)
    {
        string prefix = $"up_blocks.{index}.";
        var widths = config.BlockOutChannels;
        int last = config.Levels - 1, level = last - index;
        int previousOut = widths[Math.Min(level + 1, last)], outChannels = widths[level], inChannels = widths[Math.Max(level - 1, 0)];
        int layers = config.LayersPerBlock + 1;
        resnets = new ResnetBlock2D[layers];
        if (config.UpBlockHasAttention(index)) attentions = new Transformer2D[layers];
        for (int j = 0; j < layers; j++)
        {
            int skipChannels = j == layers - 1 ? inChannels : outChannels;
            resnets[j] = AddResnet(weights, $"{prefix}resnets.{j}.", (j == 0 ? previousOut : outChannels) + skipChannels, outChannels);
            if (attentions is not null) attentions[j] = AddTransformer(weights, $"{prefix}attentions.{j}.", level, config.OnlyCrossAttention[level]);
        }
        if (index < last) upsampler = AddChild(new Upsample2D(weights, $"{prefix}upsamplers.0.", outChannels));
    }

    /// <summary>
    /// Pops (and disposes) its layers_per_block + 1 skip connections from the end of <paramref name="skips"/> and
    /// returns the block's output; checkpointed as one piece.
    /// </summary>
    public Var Forward(Var x, List<Var> skips, Var timeEmbedding, Var context, bool checkpointed)
    {
        var popped = skips.GetRange(skips.Count - resnets.Length, resnets.Length);
        popped.Reverse();
        skips.RemoveRange(skips.Count - resnets.Length, resnets.Length);
        try
        {
            // The next skip connection (the following up block's first) sets the upsampled size.
            (int height, int width) = upsampler is null ? (0, 0) : (skips[^1].Shape[1], skips[^1].Shape[2]);
            return Run(checkpointed, v => Body(v, height, width), [x, timeEmbedding, context, .. popped]);
        }
        finally
        {
            foreach (var skip in popped) skip.Dispose();
        }
    }

    /// <summary>inputs = [x, time embedding, context, skip for resnet 0, skip for resnet 1, …].</summary>
    private Var Body(IReadOnlyList<Var> inputs, int height, int width)
    {
        Var timeEmbedding = inputs[1], context = inputs[2];
        Var? h = null; // owned once the first layer ran; inputs[0] is not
        for (int j = 0; j < resnets.Length; j++)
        {
            Var joined;
            using (h) joined = Ops.ConcatLastAxis(h ?? inputs[0], inputs[3 + j]);
            using (joined) h = resnets[j].Forward(joined, timeEmbedding);
            if (attentions is not null)
                using (var previous = h)
                    h = attentions[j].Forward(previous, context);
        }
        if (upsampler is null) return h!;
        using (h) return upsampler.Forward(h!, height, width);
    }
}
