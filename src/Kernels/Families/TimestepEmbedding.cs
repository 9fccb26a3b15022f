using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The sinusoidal timestep embedding of diffusers' <c>get_timestep_embedding</c>. The frequencies
/// f_k = scale·exp(−ln(maxPeriod)·k / (half − shift)) are computed on the host in double and handed to the kernel
/// in turns (f_k / 2π) as a pair of floats; the kernel forms t·f_k in double, keeps its fractional turn and takes
/// sin/cos with <see cref="ReproducibleMath"/>. So even at t = 999 the argument carries no float rounding (diffusers'
/// float32 product does, up to about 1e-4 rad), and every device gives the same bits.
/// </summary>
public static class TimestepEmbedding
{
    /// <summary>Validated operands of one embedding.</summary>
    internal readonly record struct SinusoidalArgs(Tensor Timesteps, float[] TurnsPerStep, int Half, int FlipSinToCos, Tensor Output);

    private static readonly OpDispatcher<SinusoidalArgs> dispatcher =
        new(new KernelVariant<SinusoidalArgs>("timestep-embedding-portable", KernelTier.Portable, (_, _) => true, LaunchPortable));

    /// <summary>
    /// [N, dim] F32 rows for the I32 timesteps [N]: concat(sin(t·f), cos(t·f)) over the half = dim / 2 frequencies,
    /// or concat(cos, sin) when <paramref name="flipSinToCos"/>, with a zero column appended when dim is odd.
    /// </summary>
    /// <exception cref="ArgumentException">The timesteps are not I32 [N], dim &lt; 1, maxPeriod &lt; 1, scale is not
    /// finite, or half − shift is not positive (diffusers would divide by zero or flip the frequencies).</exception>
    public static Tensor Sinusoidal(
        Tensor timesteps, int dim, bool flipSinToCos, float downscaleFreqShift, float scale = 1f, int maxPeriod = 10000)
    {
        const string op = nameof(TimestepEmbedding) + "." + nameof(Sinusoidal);
        ArgumentNullException.ThrowIfNull(timesteps);
        Require.DType(op, nameof(timesteps), timesteps, DType.I32);
        Require.Rank(op, nameof(timesteps), timesteps, 1);
        if (dim < 1) throw new ArgumentException($"{op}: dim {dim} must be ≥ 1.", nameof(dim));
        if (maxPeriod < 1) throw new ArgumentException($"{op}: max period {maxPeriod} must be ≥ 1.", nameof(maxPeriod));
        if (!float.IsFinite(scale)) throw new ArgumentException($"{op}: scale {scale} is not finite.", nameof(scale));
        int half = dim / 2;
        if (half > 0 && !(half - (double)downscaleFreqShift > 0))
            throw new ArgumentException(
                $"{op}: half the dim ({half}) minus the frequency shift ({downscaleFreqShift}) must be > 0.", nameof(downscaleFreqShift));
        var output = Tensor.Empty(timesteps.Device, DType.F32, timesteps.Shape[0], dim);
        var turns = TurnsPerStep(half, downscaleFreqShift, scale, maxPeriod);
        dispatcher.Launch(timesteps.Device, new SinusoidalArgs(timesteps, turns, half, flipSinToCos ? 1 : 0, output));
        return output;
    }

    /// <summary>f_k / 2π for k &lt; half as (high, low) float pairs whose sum is exact to about 2⁻⁴⁸; one zero pair if half = 0.</summary>
    private static float[] TurnsPerStep(int half, float shift, float scale, int maxPeriod)
    {
        var pairs = new float[2 * Math.Max(half, 1)];
        for (int k = 0; k < half; k++)
        {
            double turns = scale * Math.Exp(-Math.Log(maxPeriod) * k / (half - (double)shift)) / (2 * Math.PI);
            pairs[2 * k] = (float)turns;
            pairs[2 * k + 1] = (float)(turns - pairs[2 * k]);
        }
        return pairs;
    }

    private static void LaunchPortable(Device device, SinusoidalArgs a)
    {
        using var turns = Tensor.FromHost(device, a.TurnsPerStep, a.TurnsPerStep.Length);
        device.Accelerator.LaunchAutoGrouped(
            SinusoidalKernel, device.Stream, new Index1D(a.Output.Count), a.Timesteps.I32View, turns.F32View,
            a.Half, a.FlipSinToCos, a.Output.Shape[1], a.Output.F32View);
    }

    /// <summary>One thread per output element (n, c).</summary>
    [Kernel]
    internal static void SinusoidalKernel(
        Index1D i, ArrayView<int> timesteps, ArrayView<float> turnsPerStep, int half, int flipSinToCos, int dim,
        ArrayView<float> output)
    {
        int n = i / dim, c = i % dim;
        if (c >= 2 * half)
        {
            output[i] = 0f; // odd dim: the padding column
            return;
        }
        int k = c < half ? c : c - half;
        double perStep = (double)turnsPerStep[2 * k] + turnsPerStep[2 * k + 1]; // exact in double
        double turns = ReproducibleMath.Mul((double)timesteps[n], perStep);
        double fraction = turns - (long)turns; // exact
        ReproducibleMath.SinCosTurns((float)fraction, out float sin, out float cos);
        bool firstHalf = c < half;
        output[i] = firstHalf == (flipSinToCos == 0) ? sin : cos;
    }
}
