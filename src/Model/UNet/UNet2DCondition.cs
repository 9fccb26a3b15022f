using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.UNet;

/// <summary>
/// diffusers' UNet2DConditionModel (SD 1.x), built from a <see cref="UNetConfig"/> for any widths, levels, layers per
/// block, heads, groups and text width, on the autograd ops, so the same code runs inference (under
/// <see cref="Grad.NoGrad"/>) and training. Channels-last: the sample is [N, H, W, C_in], the text [N, Lt, C_text],
/// the noise prediction [N, H, W, C_out]. Any latent size works; when it is not a multiple of 2^(levels−1) each
/// upsampler resizes to its skip connection's size, as diffusers does.
/// Every layer keeps its diffusers name, so trainers and LoRA loaders find the linears with <see cref="FindLinear"/>
/// (e.g. <c>down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k</c>) or through <see cref="TransformerBlocks"/>.
/// </summary>
public sealed class UNet2DCondition : Module
{
    private readonly Conv2dLayer convIn, convOut;
    private readonly UNetTimeEmbedding timeEmbedding;
    private readonly UNetDownBlock[] downBlocks;
    private readonly UNetUpBlock[] upBlocks;
    private readonly UNetMidBlock midBlock;
    private readonly GroupNormLayer normOut;

    /// <summary>
    /// Builds the network and takes its weights from <paramref name="weights"/> (diffusers names). Missing or
    /// wrong-shaped tensors are recorded by the weight set: call its <c>Complete()</c> afterwards, or use <see cref="Load"/>.
    /// </summary>
    public UNet2DCondition(UNetConfig config, WeightSet weights)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        Config = config;
        var same = Conv2dParams.Symmetric(1, 1);
        var widths = config.BlockOutChannels;
        // Built in diffusers' registration order (down blocks, up blocks, then the mid block), so Descendants and
        // TransformerBlocks enumerate as its named_modules() does.
        convIn = AddChild(Conv2dLayer.Load(weights, "conv_in", config.InChannels, widths[0], 3, same));
        timeEmbedding = AddChild(new UNetTimeEmbedding(weights, config));
        downBlocks = [.. Enumerable.Range(0, config.Levels).Select(level => AddChild(new UNetDownBlock(weights, config, level)))];
        upBlocks = [.. Enumerable.Range(0, config.Levels).Select(index => AddChild(new UNetUpBlock(weights, config, index)))];
        midBlock = AddChild(new UNetMidBlock(weights, config));
        normOut = AddChild(new GroupNormLayer(weights, "conv_norm_out", widths[0], config.NormNumGroups, (float)config.NormEps));
        convOut = AddChild(Conv2dLayer.Load(weights, "conv_out", widths[0], config.OutChannels, 3, same));
        TransformerBlocks = [.. Descendants().OfType<BasicTransformerBlock>()];
    }

    public UNetConfig Config { get; }

    /// <summary>
    /// Every transformer block in diffusers' <c>named_modules()</c> order (down blocks, up blocks, mid block): their
    /// <c>CrossAttention.Key</c>/<c>.Value</c> are the <c>attn2.to_k</c>/<c>attn2.to_v</c> layers C-LoRA adapts.
    /// </summary>
    public IReadOnlyList<BasicTransformerBlock> TransformerBlocks { get; }

    /// <summary>
    /// Gradient checkpointing (off by default): when a tape records, each down-block layer, the mid block and each
    /// up block keep only their inputs and output and recompute the rest in backward. No effect without a tape.
    /// </summary>
    public bool GradientCheckpointing { get; set; }

    /// <summary>Builds the UNet from an opened checkpoint and checks that every UNet tensor was used with its shape.</summary>
    /// <exception cref="WeightsMismatchException">A tensor is missing, has the wrong shape, or was not used.</exception>
    public static UNet2DCondition Load(Loading.Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var unet = new UNet2DCondition(checkpoint.Config.UNet, checkpoint.UNet);
        try
        {
            checkpoint.UNet.Complete();
            return unet;
        }
        catch
        {
            unet.Dispose();
            throw;
        }
    }

    /// <summary>The linear layer with diffusers name <paramref name="name"/> (without <c>.weight</c>).</summary>
    /// <exception cref="KeyNotFoundException">No linear layer has that name.</exception>
    public LinearLayer FindLinear(string name) =>
        Descendants().OfType<LinearLayer>().FirstOrDefault(l => l.Name == name)
        ?? throw new KeyNotFoundException($"the UNet has no linear layer '{name}' (e.g. 'mid_block.attentions.0.transformer_blocks.0.attn2.to_k').");

    /// <summary>
    /// The noise prediction [N, H, W, C_out] for the channels-last latents <paramref name="sampleNhwc"/>
    /// [N, H, W, C_in] at <paramref name="timesteps"/> (I32, or F32 for fractional timesteps; [N], or [1] for the
    /// whole batch), conditioned on <paramref name="encoderHiddenStates"/> [N, Lt, cross_attention_dim].
    /// </summary>
    public Var Forward(Var sampleNhwc, Tensor timesteps, Var encoderHiddenStates)
    {
        ArgumentNullException.ThrowIfNull(sampleNhwc);
        ArgumentNullException.ThrowIfNull(timesteps);
        ArgumentNullException.ThrowIfNull(encoderHiddenStates);
        CheckInputs(sampleNhwc, timesteps, encoderHiddenStates);
        bool checkpointed = GradientCheckpointing;
        using var time = timeEmbedding.Forward(timesteps, sampleNhwc.Shape[0]);
        var skips = new List<Var>();
        Var? h = null;
        try
        {
            skips.Add(convIn.Forward(sampleNhwc));
            foreach (var block in downBlocks) block.Forward(skips, time, encoderHiddenStates, checkpointed);
            h = midBlock.Forward(skips[^1], time, encoderHiddenStates, checkpointed);
            foreach (var block in upBlocks)
                using (var previous = h)
                    h = block.Forward(previous, skips, time, encoderHiddenStates, checkpointed);
            using var activated = normOut.Forward(h, silu: true);
            return convOut.Forward(activated);
        }
        finally
        {
            h?.Dispose();
            foreach (var skip in skips) skip.Dispose();
        }
    }

    private void CheckInputs(Var sample, Tensor timesteps, Var context)
    {
        const string op = nameof(UNet2DCondition) + "." + nameof(Forward);
        if (sample.Shape.Rank != 4 || sample.Shape[3] != Config.InChannels)
            throw new ArgumentException($"{op}: sample {sample.Shape}, expected channels-last [N, H, W, {Config.InChannels}].", nameof(sample));
        int n = sample.Shape[0];
        if (context.Shape.Rank != 3 || context.Shape[0] != n || context.Shape[2] != Config.CrossAttentionDim)
            throw new ArgumentException(
                $"{op}: encoder hidden states {context.Shape}, expected [{n}, L, {Config.CrossAttentionDim}].", "encoderHiddenStates");
        if (timesteps.DType is not (DType.I32 or DType.F32) || timesteps.Shape.Rank != 1 || (timesteps.Count != n && timesteps.Count != 1))
            throw new ArgumentException($"{op}: timesteps {timesteps}, expected I32 or F32 [{n}] or [1].", nameof(timesteps));
    }
}
