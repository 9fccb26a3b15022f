using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Element-wise clamp and scaled exponential on F32 tensors, with the clamp's gradient: what the VAE posterior needs
/// (logvar clamped to [−30, 20], std = exp(½·logvar)) and what image output needs (pixels clamped to [0, 1]).
/// Portable tier: one thread per element, and each thread reads element i before writing it, so an output may alias
/// its input.
/// </summary>
public static class UnaryMath
{
    private readonly record struct ClampArgs(Tensor X, float Min, float Max, Tensor Output);

    private readonly record struct ClampBackwardArgs(Tensor X, float Min, float Max, Tensor GradOutput, Tensor GradInput);

    private readonly record struct ExpArgs(Tensor X, float Scale, Tensor Output);

    private static readonly OpDispatcher<ClampArgs> clamp =
        new(new KernelVariant<ClampArgs>("clamp-portable", KernelTier.Portable, (_, _) => true,
            (device, a) => device.Accelerator.LaunchAutoGrouped(ClampKernel, device.Stream, new Index1D(a.X.Count),
                a.X.F32View, a.Min, a.Max, a.Output.F32View)));

    private static readonly OpDispatcher<ClampBackwardArgs> clampBackward =
        new(new KernelVariant<ClampBackwardArgs>("clamp-backward-portable", KernelTier.Portable, (_, _) => true,
            (device, a) => device.Accelerator.LaunchAutoGrouped(ClampBackwardKernel, device.Stream, new Index1D(a.X.Count),
                a.X.F32View, a.Min, a.Max, a.GradOutput.F32View, a.GradInput.F32View)));

    private static readonly OpDispatcher<ExpArgs> exp =
        new(new KernelVariant<ExpArgs>("exp-portable", KernelTier.Portable, (_, _) => true,
            (device, a) => device.Accelerator.LaunchAutoGrouped(ExpKernel, device.Stream, new Index1D(a.X.Count),
                a.X.F32View, a.Scale, a.Output.F32View)));

    /// <summary>output = min(max(x, <paramref name="min"/>), <paramref name="max"/>) (torch.clamp); NaN stays NaN.</summary>
    public static void Clamp(Tensor x, float min, float max, Tensor output)
    {
        CheckClampBounds(nameof(Clamp), min, max);
        CheckUnary(nameof(Clamp), x, output, nameof(output));
        clamp.Launch(x.Device, new ClampArgs(x, min, max, output));
    }

    /// <summary>
    /// The gradient of <see cref="Clamp"/> as torch defines it: gradInput = gradOutput where min ≤ x ≤ max (bounds
    /// included), 0 elsewhere. gradInput may alias gradOutput.
    /// </summary>
    public static void ClampBackward(Tensor x, float min, float max, Tensor gradOutput, Tensor gradInput)
    {
        const string op = nameof(ClampBackward);
        CheckClampBounds(op, min, max);
        CheckUnary(op, x, gradOutput, nameof(gradOutput));
        Require.Like(op, nameof(gradInput), gradInput, x, nameof(x));
        clampBackward.Launch(x.Device, new ClampBackwardArgs(x, min, max, gradOutput, gradInput));
    }

    /// <summary>output = exp(<paramref name="scale"/> · x); its gradient is scale · output ⊙ gradOutput.</summary>
    public static void Exp(Tensor x, float scale, Tensor output)
    {
        Require.Finite(nameof(Exp), nameof(scale), scale);
        CheckUnary(nameof(Exp), x, output, nameof(output));
        exp.Launch(x.Device, new ExpArgs(x, scale, output));
    }

    private static void CheckUnary(string op, Tensor x, Tensor other, string otherName)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(other);
        Require.DType(op, nameof(x), x, DType.F32);
        Require.Like(op, otherName, other, x, nameof(x));
    }

    private static void CheckClampBounds(string op, float min, float max)
    {
        Require.Finite(op, nameof(min), min);
        Require.Finite(op, nameof(max), max);
        Require.That(min <= max, op, nameof(min), $"min {min} is above max {max}.");
    }

    [Kernel]
    internal static void ClampKernel(Index1D i, ArrayView<float> x, float min, float max, ArrayView<float> output)
    {
        float v = x[i];
        output[i] = v < min ? min : v > max ? max : v;
    }

    [Kernel]
    internal static void ClampBackwardKernel(Index1D i, ArrayView<float> x, float min, float max, ArrayView<float> gradOutput, ArrayView<float> gradInput)
    {
        float v = x[i];
        gradInput[i] = v >= min && v <= max ? gradOutput[i] : 0f;
    }

    [Kernel]
    internal static void ExpKernel(Index1D i, ArrayView<float> x, float scale, ArrayView<float> output) => output[i] = MathF.Exp(scale * x[i]);
}
