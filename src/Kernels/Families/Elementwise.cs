using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Element-wise ops on same-shape F32 tensors: fill (from a constant or a device scalar), add, multiply, scale, accumulate. Portable tier: one thread per
/// element; each thread reads element i of its inputs before writing element i, so an output may alias an input.
/// </summary>
public static class Elementwise
{
    /// <summary>Sets every element of <paramref name="x"/> to <paramref name="value"/>.</summary>
    public static void Fill(Tensor x, float value)
    {
        Require.DType(nameof(Fill), nameof(x), x, DType.F32);
        fill.Launch(x.Device, new FillArgs(x, value));
    }

    /// <summary>
    /// Sets every element of <paramref name="x"/> to <paramref name="scale"/> · scalar[0], reading the one-element F32
    /// <paramref name="scalar"/> on the device (a reduction's gradient, with no host round trip).
    /// </summary>
    public static void FillFromScalar(Tensor x, Tensor scalar, float scale = 1f)
    {
        const string op = nameof(FillFromScalar);
        Require.DType(op, nameof(x), x, DType.F32);
        Require.DType(op, nameof(scalar), scalar, DType.F32);
        Require.SameDevice(op, nameof(scalar), scalar, x.Device);
        Require.That(scalar.Count == 1, op, nameof(scalar), $"scalar has shape {scalar.Shape}, expected a single element.");
        Require.Finite(op, nameof(scale), scale);
        fillFromScalar.Launch(x.Device, new FillFromScalarArgs(x, scalar, scale));
    }

    /// <summary>output = a + b, all the same shape (output may alias a or b).</summary>
    public static void Add(Tensor a, Tensor b, Tensor output)
    {
        CheckBinary(nameof(Add), a, b, output);
        binary.Launch(a.Device, new BinaryArgs(BinaryKind.Add, a, b, output));
    }

    /// <summary>target += x, the same shape (gradient accumulation).</summary>
    public static void Accumulate(Tensor target, Tensor x)
    {
        Require.DType(nameof(Accumulate), nameof(target), target, DType.F32);
        Require.Like(nameof(Accumulate), nameof(x), x, target, nameof(target));
        binary.Launch(target.Device, new BinaryArgs(BinaryKind.Add, target, x, target));
    }

    /// <summary>output = a ⊙ b, all the same shape (output may alias a or b). Its backward is <see cref="MulBackward"/>.</summary>
    public static void Mul(Tensor a, Tensor b, Tensor output)
    {
        CheckBinary(nameof(Mul), a, b, output);
        binary.Launch(a.Device, new BinaryArgs(BinaryKind.Mul, a, b, output));
    }

    /// <summary>
    /// The gradients of <see cref="Mul"/>: gradA = gradOutput ⊙ b, gradB = gradOutput ⊙ a; pass null for one not
    /// needed. gradA is written first, so it must not share storage with gradOutput or a when gradB is requested.
    /// </summary>
    public static void MulBackward(Tensor a, Tensor b, Tensor gradOutput, Tensor? gradA, Tensor? gradB)
    {
        const string op = nameof(MulBackward);
        Require.DType(op, nameof(a), a, DType.F32);
        Require.Like(op, nameof(b), b, a, nameof(a));
        Require.Like(op, nameof(gradOutput), gradOutput, a, nameof(a));
        if (gradA is not null) Require.Like(op, nameof(gradA), gradA, a, nameof(a));
        if (gradB is not null) Require.Like(op, nameof(gradB), gradB, a, nameof(a));
        if (gradB is not null && (ReferenceEquals(gradA, gradOutput) || ReferenceEquals(gradA, a)))
            throw new ArgumentException($"{op}: gradA is gradOutput or a, which gradB still needs.", nameof(gradA));
        if (gradA is not null) binary.Launch(a.Device, new BinaryArgs(BinaryKind.Mul, gradOutput, b, gradA));
        if (gradB is not null) binary.Launch(a.Device, new BinaryArgs(BinaryKind.Mul, gradOutput, a, gradB));
    }

    /// <summary>output = alpha · x (output may alias x). Its backward is Scale(gradOutput, alpha).</summary>
    public static void Scale(Tensor x, float alpha, Tensor output)
    {
        Require.DType(nameof(Scale), nameof(x), x, DType.F32);
        Require.Like(nameof(Scale), nameof(output), output, x, nameof(x));
        scale.Launch(x.Device, new ScaleArgs(x, alpha, output));
    }

    private static void CheckBinary(string op, Tensor a, Tensor b, Tensor output)
    {
        Require.DType(op, nameof(a), a, DType.F32);
        Require.Like(op, nameof(b), b, a, nameof(a));
        Require.Like(op, nameof(output), output, a, nameof(a));
    }

    private readonly record struct FillArgs(Tensor X, float Value);

    private readonly record struct FillFromScalarArgs(Tensor X, Tensor Scalar, float Scale);

    private readonly record struct BinaryArgs(BinaryKind Kind, Tensor A, Tensor B, Tensor Output);

    private readonly record struct ScaleArgs(Tensor X, float Alpha, Tensor Output);

    private static readonly OpDispatcher<FillArgs> fill =
        new(new KernelVariant<FillArgs>("fill-portable", KernelTier.Portable, (_, _) => true,
            (device, a) => device.Accelerator.LaunchAutoGrouped(FillKernel, device.Stream, new Index1D(a.X.Count), a.X.F32View, a.Value)));

    private static readonly OpDispatcher<FillFromScalarArgs> fillFromScalar =
        new(new KernelVariant<FillFromScalarArgs>("fill-from-scalar-portable", KernelTier.Portable, (_, _) => true,
            (device, a) => device.Accelerator.LaunchAutoGrouped(FillFromScalarKernel, device.Stream, new Index1D(a.X.Count),
                a.X.F32View, a.Scalar.F32View, a.Scale)));

    private static readonly OpDispatcher<BinaryArgs> binary =
        new(new KernelVariant<BinaryArgs>("binary-portable", KernelTier.Portable, (_, _) => true, LaunchBinary));

    private static readonly OpDispatcher<ScaleArgs> scale =
        new(new KernelVariant<ScaleArgs>("scale-portable", KernelTier.Portable, (_, _) => true,
            (device, a) => device.Accelerator.LaunchAutoGrouped(ScaleKernel, device.Stream, new Index1D(a.X.Count), a.X.F32View, a.Alpha, a.Output.F32View)));

    private static void LaunchBinary(Device device, BinaryArgs a)
    {
        var extent = new Index1D(a.Output.Count);
        if (a.Kind == BinaryKind.Add)
            device.Accelerator.LaunchAutoGrouped(BinaryKernel<AddOp>, device.Stream, extent, a.A.F32View, a.B.F32View, a.Output.F32View);
        else
            device.Accelerator.LaunchAutoGrouped(BinaryKernel<MultiplyOp>, device.Stream, extent, a.A.F32View, a.B.F32View, a.Output.F32View);
    }

    [Kernel]
    internal static void FillKernel(Index1D i, ArrayView<float> x, float value) => x[i] = value;

    [Kernel]
    internal static void FillFromScalarKernel(Index1D i, ArrayView<float> x, ArrayView<float> scalar, float scale) => x[i] = scale * scalar[0];

    /// <summary>output[i] = op(a[i], b[i]).</summary>
    [Kernel(typeof(AddOp)), Kernel(typeof(MultiplyOp))]
    internal static void BinaryKernel<TOp>(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> output)
        where TOp : struct, IBinaryOp
        => output[i] = default(TOp).Apply(a[i], b[i]);

    [Kernel]
    internal static void ScaleKernel(Index1D i, ArrayView<float> x, float alpha, ArrayView<float> output)
        => output[i] = alpha * x[i];
}
