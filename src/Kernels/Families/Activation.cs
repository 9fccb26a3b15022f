using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Element-wise activations (GELU, quick GELU, SiLU) and diffusers' GEGLU, forward and backward, on F32 tensors of
/// any shape. One generic forward and one generic backward kernel serve every <see cref="IUnaryOp"/>.
/// </summary>
public static class Activation
{
    /// <summary>output = f(x), same shape; output may alias x.</summary>
    public static void Forward(ActivationKind kind, Tensor x, Tensor output)
    {
        const string op = nameof(Activation) + "." + nameof(Forward);
        RequireKind(op, kind);
        Require.DType(op, nameof(x), x, DType.F32);
        Require.Like(op, nameof(output), output, x, nameof(x));
        forward.Launch(x.Device, new ForwardArgs(kind, x, output));
    }

    /// <summary>gradInput = gradOutput · f′(x), all the same shape; gradInput may alias x or gradOutput.</summary>
    public static void Backward(ActivationKind kind, Tensor x, Tensor gradOutput, Tensor gradInput)
    {
        const string op = nameof(Activation) + "." + nameof(Backward);
        RequireKind(op, kind);
        Require.DType(op, nameof(x), x, DType.F32);
        Require.Like(op, nameof(gradOutput), gradOutput, x, nameof(x));
        Require.Like(op, nameof(gradInput), gradInput, x, nameof(x));
        backward.Launch(x.Device, new BackwardArgs(kind, x, gradOutput, gradInput));
    }

    /// <summary>
    /// GEGLU after its projection: x is [.., 2F], split along the last dim into (hidden, gate) = (first F, last F);
    /// output [.., F] = hidden · GELU(gate), as diffusers' <c>hidden, gate = proj(x).chunk(2, -1)</c>.
    /// </summary>
    public static void Geglu(Tensor x, Tensor output)
    {
        const string op = nameof(Activation) + "." + nameof(Geglu);
        int features = CheckGeglu(op, x, output, nameof(output));
        geglu.Launch(x.Device, new GegluArgs(x, output, features));
    }

    /// <summary>The gradient of <see cref="Geglu"/> with respect to its [.., 2F] input, from gradOutput [.., F].</summary>
    public static void GegluBackward(Tensor x, Tensor gradOutput, Tensor gradInput)
    {
        const string op = nameof(Activation) + "." + nameof(GegluBackward);
        int features = CheckGeglu(op, x, gradOutput, nameof(gradOutput));
        Require.Like(op, nameof(gradInput), gradInput, x, nameof(x));
        gegluBackward.Launch(x.Device, new GegluBackwardArgs(x, gradOutput, gradInput, features));
    }

    private static void RequireKind(string op, ActivationKind kind)
    {
        if (!Enum.IsDefined(kind)) throw new ArgumentException($"{op}: unknown activation {kind}.", nameof(kind));
    }

    /// <summary>Checks x [.., 2F] and the [.., F] tensor paired with it; returns F.</summary>
    private static int CheckGeglu(string op, Tensor x, Tensor half, string halfName)
    {
        Require.DType(op, nameof(x), x, DType.F32);
        Require.DType(op, halfName, half, DType.F32);
        Require.SameDevice(op, halfName, half, x.Device);
        int last = x.Shape[-1];
        if (last % 2 != 0) throw new ArgumentException($"{op}: x has shape {x.Shape}; its last dimension must be even (hidden and gate halves).", nameof(x));
        var expected = x.Shape.ToArray();
        expected[^1] = last / 2;
        Require.Shape(op, halfName, half, expected);
        return last / 2;
    }

    private readonly record struct ForwardArgs(ActivationKind Kind, Tensor X, Tensor Output);

    private readonly record struct BackwardArgs(ActivationKind Kind, Tensor X, Tensor GradOutput, Tensor GradInput);

    private readonly record struct GegluArgs(Tensor X, Tensor Output, int Features);

    private readonly record struct GegluBackwardArgs(Tensor X, Tensor GradOutput, Tensor GradInput, int Features);

    private static readonly OpDispatcher<ForwardArgs> forward =
        new(new KernelVariant<ForwardArgs>("activation-forward-portable", KernelTier.Portable, (_, _) => true, LaunchForward));

    private static readonly OpDispatcher<BackwardArgs> backward =
        new(new KernelVariant<BackwardArgs>("activation-backward-portable", KernelTier.Portable, (_, _) => true, LaunchBackward));

    private static readonly OpDispatcher<GegluArgs> geglu =
        new(new KernelVariant<GegluArgs>("geglu-forward-portable", KernelTier.Portable, (_, _) => true, LaunchGeglu));

    private static readonly OpDispatcher<GegluBackwardArgs> gegluBackward =
        new(new KernelVariant<GegluBackwardArgs>("geglu-backward-portable", KernelTier.Portable, (_, _) => true, LaunchGegluBackward));

    private static void LaunchForward(Device device, ForwardArgs a)
    {
        var acc = device.Accelerator;
        var extent = new Index1D(a.X.Count);
        switch (a.Kind)
        {
            case ActivationKind.Gelu: acc.LaunchAutoGrouped(ForwardKernel<GeluErf>, device.Stream, extent, a.X.F32View, a.Output.F32View); break;
            case ActivationKind.QuickGelu: acc.LaunchAutoGrouped(ForwardKernel<QuickGelu>, device.Stream, extent, a.X.F32View, a.Output.F32View); break;
            case ActivationKind.Silu: acc.LaunchAutoGrouped(ForwardKernel<Silu>, device.Stream, extent, a.X.F32View, a.Output.F32View); break;
        }
    }

    private static void LaunchBackward(Device device, BackwardArgs a)
    {
        var acc = device.Accelerator;
        var extent = new Index1D(a.X.Count);
        switch (a.Kind)
        {
            case ActivationKind.Gelu: acc.LaunchAutoGrouped(BackwardKernel<GeluErf>, device.Stream, extent, a.X.F32View, a.GradOutput.F32View, a.GradInput.F32View); break;
            case ActivationKind.QuickGelu: acc.LaunchAutoGrouped(BackwardKernel<QuickGelu>, device.Stream, extent, a.X.F32View, a.GradOutput.F32View, a.GradInput.F32View); break;
            case ActivationKind.Silu: acc.LaunchAutoGrouped(BackwardKernel<Silu>, device.Stream, extent, a.X.F32View, a.GradOutput.F32View, a.GradInput.F32View); break;
        }
    }

    private static void LaunchGeglu(Device device, GegluArgs a) =>
        device.Accelerator.LaunchAutoGrouped(GegluKernel, device.Stream, new Index1D(a.Output.Count), a.X.F32View, a.Output.F32View, a.Features);

    private static void LaunchGegluBackward(Device device, GegluBackwardArgs a) =>
        device.Accelerator.LaunchAutoGrouped(GegluBackwardKernel, device.Stream, new Index1D(a.GradInput.Count),
            a.X.F32View, a.GradOutput.F32View, a.GradInput.F32View, a.Features);

    /// <summary>output[i] = f(x[i]).</summary>
    [Kernel(typeof(GeluErf)), Kernel(typeof(QuickGelu)), Kernel(typeof(Silu))]
    internal static void ForwardKernel<TOp>(Index1D i, ArrayView<float> x, ArrayView<float> output)
        where TOp : struct, IUnaryOp
        => output[i] = default(TOp).Apply(x[i]);

    /// <summary>gradInput[i] = gradOutput[i] · f′(x[i]).</summary>
    [Kernel(typeof(GeluErf)), Kernel(typeof(QuickGelu)), Kernel(typeof(Silu))]
    internal static void BackwardKernel<TOp>(Index1D i, ArrayView<float> x, ArrayView<float> gradOutput, ArrayView<float> gradInput)
        where TOp : struct, IUnaryOp
        => gradInput[i] = gradOutput[i] * default(TOp).Derivative(x[i]);

    /// <summary>One thread per output element (row r, feature f): hidden = x[r, f], gate = x[r, F + f].</summary>
    [Kernel]
    internal static void GegluKernel(Index1D i, ArrayView<float> x, ArrayView<float> output, int features)
    {
        int row = i / features, f = i - row * features;
        int hidden = row * 2 * features + f;
        output[i] = x[hidden] * default(GeluErf).Apply(x[hidden + features]);
    }

    /// <summary>
    /// One thread per input-gradient element: d hidden = dy · GELU(gate), d gate = dy · hidden · GELU′(gate).
    /// </summary>
    [Kernel]
    internal static void GegluBackwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> gradOutput, ArrayView<float> gradInput, int features)
    {
        int width = 2 * features;
        int row = i / width, k = i - row * width;
        bool isGate = k >= features;
        int f = isGate ? k - features : k;
        int hidden = row * width + f;
        float gate = x[hidden + features];
        float dy = gradOutput[row * features + f];
        gradInput[i] = isGate ? dy * x[hidden] * default(GeluErf).Derivative(gate) : dy * default(GeluErf).Apply(gate);
    }
}
