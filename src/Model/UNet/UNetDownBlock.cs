using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.UNet;

/// <summary>
/// diffusers' CrossAttnDownBlock2D (per layer a resnet then a transformer) or DownBlock2D (resnets only), then a
/// stride-2 <see cref="Downsample2D"/> except on the last level. Every layer's output and the downsampled output
/// are skip connections for the up blocks.
/// </summary>
internal sealed class UNetDownBlock : UNetBlock
{
    private readonly ResnetBlock2D[] resnets;
    private readonly Transformer2D[]? attentions;
    private readonly Downsample2D? downsampler;

    public UNetDownBlock(WeightSet weights, UNetConfig config, int level) : base(config)
    {
        string prefix = $"down_blocks.{level}.";
        int inChannels = config.BlockOutChannels[Math.Max(level - 1, 0)], outChannels = config.BlockOutChannels[level];
        resnets = new ResnetBlock2D[config.LayersPerBlock];
        if (config.DownBlockHasAttention(level)) attentions = new Transformer2D[config.LayersPerBlock];
        for (int j = 0; j < config.LayersPerBlock; j++)
        {
            resnets[j] = AddResnet(weights, $"{prefix}resnets.{j}.", j == 0 ? inChannels : outChannels, outChannels);
            if (attentions is not null) attentions[j] = AddTransformer(weights, $"{prefix}attentions.{j}.", level, config.OnlyCrossAttention[level]);
        }
        if (level < config.Levels - 1)
            downsampler = AddChild(new Downsample2D(weights, $"{prefix}downsamplers.0.", outChannels, asymmetricPadding: false));
    }

    /// <summary>
    /// Reads its input from the last of <paramref name="skips"/> and appends each layer's output and the
    /// downsampled one (the list owns them). Checkpointing works per layer: each layer's output is a skip kept
    /// anyway, so this saves as much as checkpointing the whole block.
    /// </summary>
    public void Forward(List<Var> skips, Var timeEmbedding, Var context, bool checkpointed)
    {
        for (int j = 0; j < resnets.Length; j++)
        {
            int layer = j;
            skips.Add(Run(checkpointed, v => Layer(layer, v[0], v[1], v[2]), skips[^1], timeEmbedding, context));
        }
        if (downsampler is not null) skips.Add(downsampler.Forward(skips[^1]));
    }

    private Var Layer(int j, Var x, Var timeEmbedding, Var context)
    {
        var h = resnets[j].Forward(x, timeEmbedding);
        if (attentions is null) return h;
        using (h) return attentions[j].Forward(h, context);
    }
}
