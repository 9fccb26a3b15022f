using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.UNet;

/// <summary>
/// What the UNet's down, mid and up blocks share: resnets with the config's time embedding, groups and eps,
/// transformers for a level, and running a piece of the block under gradient checkpointing.
/// </summary>
internal abstract class UNetBlock(UNetConfig config) : Module
{
    protected UNetConfig Config { get; } = config;

    protected ResnetBlock2D AddResnet(WeightSet weights, string prefix, int inChannels, int outChannels) => AddChild(new ResnetBlock2D(
        weights, prefix, inChannels, outChannels, Config.TimeEmbeddingDim, Config.NormNumGroups, (float)Config.NormEps));

    protected Transformer2D AddTransformer(WeightSet weights, string prefix, int level, bool onlyCrossAttention) =>
        AddChild(new Transformer2D(weights, prefix, Config, level, onlyCrossAttention));

    /// <summary>
    /// Runs <paramref name="body"/> over <paramref name="inputs"/>, through <see cref="Autograd.Checkpoint.Run"/> when
    /// <paramref name="checkpointed"/> (it then keeps only the inputs and the output for backward and recomputes the
    /// rest). The body must reach every non-parameter Var it reads through its inputs and must not dispose them.
    /// </summary>
    protected static Var Run(bool checkpointed, Func<IReadOnlyList<Var>, Var> body, params Var[] inputs) =>
        checkpointed ? Autograd.Checkpoint.Run(body, inputs) : body(inputs);
}
