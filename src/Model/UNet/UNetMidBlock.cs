using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.UNet;

/// <summary>diffusers' UNetMidBlock2DCrossAttn at the innermost width: resnet → transformer → resnet.</summary>
internal sealed class UNetMidBlock : UNetBlock
{
    private readonly ResnetBlock2D first, second;
    private readonly Transformer2D attention;

    public UNetMidBlock(WeightSet weights, UNetConfig config) : base(config)
    {
        int level = config.Levels - 1, channels = config.BlockOutChannels[level];
        first = AddResnet(weights, "mid_block.resnets.0.", channels, channels);
        attention = AddTransformer(weights, "mid_block.attentions.0.", level, onlyCrossAttention: false);
        second = AddResnet(weights, "mid_block.resnets.1.", channels, channels);
    }

    /// <summary>x [N, h, w, C_last] → the same shape; checkpointed as one piece.</summary>
    public Var Forward(Var x, Var timeEmbedding, Var context, bool checkpointed) =>
        Run(checkpointed, v => Body(v[0], v[1], v[2]), x, timeEmbedding, context);

    private Var Body(Var x, Var timeEmbedding, Var context)
    {
        using var h = first.Forward(x, timeEmbedding);
        using var attended = attention.Forward(h, context);
        return second.Forward(attended, timeEmbedding);
    }
}
