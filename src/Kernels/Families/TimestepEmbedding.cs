using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The sinusoidal timestep embedding of diffusers' <c>get_timestep_embedding</c>. The frequencies
/// f_k = scale·exp(−ln(maxPeriod)·k / (half − shift)) are computed on the host in double and handed to the kernel
/// in turns (f_k / 2π) as a pair of floats; the kernel forms t·f_k in double, keeps its fractional turn and takes
/// sin/cos with <see cref="ReproducibleMath"/>. So even at t = 999 the argument carries no float rounding (diffusers'
/// float32 product does, up to about 1e-4 rad), and every device gives the same bits. Timesteps are I32 (the
/// training and DDIM/PNDM grids) or F32 (the fractional timesteps of Karras-sigma schedulers); one generic kernel
/// reads both, each value converted exactly to double.
/// </summary>
public static class TimestepEmbedding
{
    /// <summary>Validated operands of one embedding; <c>StepStride</c> is 0 when one timestep is broadcast over the rows.</summary>
    internal readonly record struct SinusoidalArgs(Tensor Timesteps, int StepStride, float[] TurnsPerStep, int Half, int FlipSinToCos, Tensor Output);

    private static readonly OpDispatcher<SinusoidalArgs> dispatcher =
        new(new KernelVariant<SinusoidalArgs>("timestep-embedding-portable", KernelTier.Portable, (_, _) => true, LaunchPortable));

    /// <summary>
    /// [N, dim] F32 rows for the I32 or F32 timesteps [N]: concat(sin(t·f), cos(t·f)) over the half = dim / 2
    /// frequencies, or concat(cos, sin) when <paramref name="flipSinToCos"/>, with a zero column appended when dim is
    /// odd. <paramref name="rows"/> sets N explicitly: the timesteps then hold N values or a single one shared by
    /// every row (diffusers broadcasts a scalar timestep over the batch).
    /// </summary>
    /// <exception cref="ArgumentException">The timesteps are not I32/F32 [N] (or [1] with <paramref name="rows"/>),
    /// rows &lt; 1, dim &lt; 1, maxPeriod &lt; 1, scale is not finite, or half − shift is not positive (diffusers would
    /// divide by zero or flip the frequencies).</exception>
    public static Tensor Sinusoidal(
        Tensor timesteps, int dim, bool flipSinToCos, float downscaleFreqShift, float scale = 1f, int maxPeriod = 10000, int? rows = null)
    {
        const string op = nameof(TimestepEmbedding) + "." + nameof(Sinusoidal);
        ArgumentNullException.ThrowIfNull(timesteps);
        Require.DType(op, nameof(timesteps), timesteps, DType.I32, DType.F32);
        Require.Rank(op, nameof(timesteps), timesteps, 1);
        int n = rows ?? timesteps.Count;
        if (n < 1) throw new ArgumentException($"{op}: {n} rows; expected at least one.", nameof(rows));
        Require.That(timesteps.Count == n || timesteps.Count == 1, op, nameof(timesteps),
            $"{timesteps.Count} timesteps for {n} rows; expected {n} or a single one to broadcast.");
        if (dim < 1) throw new ArgumentException($"{op}: dim {dim} must be ≥ 1.", nameof(dim));
        if (maxPeriod < 1) throw new ArgumentException($"{op}: max period {maxPeriod} must be ≥ 1.", nameof(maxPeriod));
        if (!float.IsFinite(scale)) throw new ArgumentException($"{op}: scale {scale} is not finite.", nameof(scale));
        int half = dim / 2;
        if (half > 0 && !(half - (double)downscaleFreqShift > 0))
            throw new ArgumentException(
                $"{op}: half the dim ({half}) minus the frequency shift ({downscaleFreqShift}) must be > 0.", nameof(downscaleFreqShift));
        var output = Tensor.Empty(timesteps.Device, DType.F32, n, dim);
        var turns = TurnsPerStep(half, downscaleFreqShift, scale, maxPeriod);
        int stride = timesteps.Count == n ? 1 : 0;
        dispatcher.Launch(timesteps.Device, new SinusoidalArgs(timesteps, stride, turns, half, flipSinToCos ? 1 : 0, output));
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
        var extent = new Index1D(a.Output.Count);
        if (a.Timesteps.DType == DType.I32)
            device.Accelerator.LaunchAutoGrouped(SinusoidalKernel<int, IntegerStep>, device.Stream, extent, a.Timesteps.I32View,
                a.StepStride, turns.F32View, a.Half, a.FlipSinToCos, a.Output.Shape[1], a.Output.F32View);
        else
            device.Accelerator.LaunchAutoGrouped(SinusoidalKernel<float, FractionalStep>, device.Stream, extent, a.Timesteps.F32View,
                a.StepStride, turns.F32View, a.Half, a.FlipSinToCos, a.Output.Shape[1], a.Output.F32View);
    }

    /// <summary>One thread per output element (n, c); row n reads timesteps[n · stepStride].</summary>
    [Kernel(typeof(int), typeof(IntegerStep)), Kernel(typeof(float), typeof(FractionalStep))]
    internal static void SinusoidalKernel<T, TStep>(
        Index1D i, ArrayView<T> timesteps, int stepStride, ArrayView<float> turnsPerStep, int half, int flipSinToCos, int dim,
        ArrayView<float> output)
        where T : unmanaged
        where TStep : struct, IStepValue<T>
    {
        int n = i / dim, c = i % dim;
        if (c >= 2 * half)
        {
            output[i] = 0f; // odd dim: the padding column
            return;
        }
        int k = c < half ? c : c - half;
        double perStep = (double)turnsPerStep[2 * k] + turnsPerStep[2 * k + 1]; // exact in double
        double turns = ReproducibleMath.Mul(default(TStep).ToDouble(timesteps[n * stepStride]), perStep);
        double fraction = turns - (long)turns; // exact
        ReproducibleMath.SinCosTurns((float)fraction, out float sin, out float cos);
        bool firstHalf = c < half;
        output[i] = firstHalf == (flipSinToCos == 0) ? sin : cos;
    }

    /// <summary>Reads one stored timestep as a double (exactly) inside the kernel.</summary>
    internal interface IStepValue<T> where T : unmanaged
    {
        double ToDouble(T value);
    }

    /// <summary>I32 timesteps.</summary>
    internal readonly struct IntegerStep : IStepValue<int>
    {
        public double ToDouble(int value) => value;
    }

    /// <summary>F32 (fractional) timesteps.</summary>
    internal readonly struct FractionalStep : IStepValue<float>
    {
        public double ToDouble(float value) => value;
    }
}
