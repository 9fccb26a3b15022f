using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.UNet;

/// <summary>
/// The UNet's time conditioning: diffusers' <c>time_proj</c> (the sinusoidal embedding of the timesteps, width
/// <c>block_out_channels[0]</c>, with the config's <c>flip_sin_to_cos</c> and <c>freq_shift</c>) followed by
/// <c>time_embedding</c> (linear_1 → SiLU → linear_2, width 4 × <c>block_out_channels[0]</c>).
/// </summary>
public sealed class UNetTimeEmbedding : Module
{
    private readonly int sinusoidalDim;
    private readonly bool flipSinToCos;
    private readonly float freqShift;
    private readonly LinearLayer linear1, linear2;

    public UNetTimeEmbedding(WeightSet weights, UNetConfig config)
    {
        sinusoidalDim = config.BlockOutChannels[0];
        flipSinToCos = config.FlipSinToCos;
        freqShift = config.FreqShift;
        linear1 = AddChild(LinearLayer.Load(weights, "time_embedding.linear_1", sinusoidalDim, config.TimeEmbeddingDim));
        linear2 = AddChild(LinearLayer.Load(weights, "time_embedding.linear_2", config.TimeEmbeddingDim, config.TimeEmbeddingDim));
    }

    /// <summary>
    /// [batch, 4·C0] for I32 or F32 (fractional) timesteps [batch], or [1] shared by the whole batch.
    /// </summary>
    public Var Forward(Tensor timesteps, int batch)
    {
        using var sinusoid = Var.Constant(TimestepEmbedding.Sinusoidal(timesteps, sinusoidalDim, flipSinToCos, freqShift, rows: batch));
        using var hidden = linear1.Forward(sinusoid);
        using var activated = Ops.Silu(hidden);
        return linear2.Forward(activated);
    }
}
