using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Broadcast add and multiply on channels-last F32 tensors, forward and backward: a [C] vector over the last dim of
/// [.., C] (bias add, per-channel scale), and a per-sample, per-channel [N, C] tensor over [N, .., C] (the UNet's
/// time-embedding add into resnet features). The broadcast operand's gradient is a reduction with one thread per
/// element of that gradient looping over the broadcast elements (deterministic, no atomics).
/// </summary>
public static class Broadcast
{
    /// <summary>output[.., c] = x[.., c] + vector[c] (output may alias x).</summary>
    public static void AddLastDim(Tensor x, Tensor vector, Tensor output) =>
        Forward(nameof(AddLastDim), BinaryKind.Add, x, vector, nameof(vector), output, perSample: false);

    /// <summary>output[.., c] = x[.., c] · vector[c] (output may alias x).</summary>
    public static void MulLastDim(Tensor x, Tensor vector, Tensor output) =>
        Forward(nameof(MulLastDim), BinaryKind.Mul, x, vector, nameof(vector), output, perSample: false);

    /// <summary>output[n, .., c] = x[n, .., c] + perSample[n, c], x of rank ≥ 2 (output may alias x).</summary>
    public static void AddPerSample(Tensor x, Tensor perSample, Tensor output) =>
        Forward(nameof(AddPerSample), BinaryKind.Add, x, perSample, nameof(perSample), output, perSample: true);

    /// <summary>output[n, .., c] = x[n, .., c] · perSample[n, c], x of rank ≥ 2 (output may alias x).</summary>
    public static void MulPerSample(Tensor x, Tensor perSample, Tensor output) =>
        Forward(nameof(MulPerSample), BinaryKind.Mul, x, perSample, nameof(perSample), output, perSample: true);

    /// <summary>
    /// The gradient of <see cref="AddLastDim"/> with respect to the vector: gradVector[c] = Σ gradOutput[.., c].
    /// (With respect to x it is gradOutput itself.)
    /// </summary>
    public static void AddLastDimBackward(Tensor gradOutput, Tensor gradVector) =>
        AddBackward(nameof(AddLastDimBackward), gradOutput, gradVector, nameof(gradVector), perSample: false);

    /// <summary>
    /// The gradient of <see cref="AddPerSample"/> with respect to the [N, C] operand: gradPerSample[n, c] =
    /// Σ gradOutput[n, .., c]. (With respect to x it is gradOutput itself.)
    /// </summary>
    public static void AddPerSampleBackward(Tensor gradOutput, Tensor gradPerSample) =>
        AddBackward(nameof(AddPerSampleBackward), gradOutput, gradPerSample, nameof(gradPerSample), perSample: true);

    /// <summary>
    /// The gradients of <see cref="MulLastDim"/>: gradX = gradOutput · vector[c] and gradVector[c] =
    /// Σ gradOutput[.., c] · x[.., c]; pass null for one not needed. gradX may alias gradOutput or x.
    /// </summary>
    public static void MulLastDimBackward(Tensor x, Tensor vector, Tensor gradOutput, Tensor? gradX, Tensor? gradVector) =>
        MulBackward(nameof(MulLastDimBackward), x, vector, nameof(vector), gradOutput, gradX, gradVector, nameof(gradVector), perSample: false);

    /// <summary>
    /// The gradients of <see cref="MulPerSample"/>: gradX = gradOutput · perSample[n, c] and gradPerSample[n, c] =
    /// Σ gradOutput[n, .., c] · x[n, .., c]; pass null for one not needed. gradX may alias gradOutput or x.
    /// </summary>
    public static void MulPerSampleBackward(Tensor x, Tensor perSample, Tensor gradOutput, Tensor? gradX, Tensor? gradPerSample) =>
        MulBackward(nameof(MulPerSampleBackward), x, perSample, nameof(perSample), gradOutput, gradX, gradPerSample, nameof(gradPerSample), perSample: true);

    private static void Forward(string op, BinaryKind kind, Tensor x, Tensor operand, string operandName, Tensor output, bool perSample)
    {
        var geometry = Check(op, x, operand, operandName, perSample);
        Require.Like(op, nameof(output), output, x, nameof(x));
        forward.Launch(x.Device, new ForwardArgs(kind, x, operand, output, geometry));
    }

    private static void AddBackward(string op, Tensor gradOutput, Tensor gradOperand, string operandName, bool perSample)
    {
        var geometry = Check(op, gradOutput, gradOperand, operandName, perSample, nameof(gradOutput));
        reduce.Launch(gradOutput.Device, new ReduceArgs(gradOutput, null, geometry, gradOperand));
    }

    private static void MulBackward(string op, Tensor x, Tensor operand, string operandName, Tensor gradOutput,
        Tensor? gradX, Tensor? gradOperand, string gradOperandName, bool perSample)
    {
        var geometry = Check(op, x, operand, operandName, perSample);
        Require.Like(op, nameof(gradOutput), gradOutput, x, nameof(x));
        if (gradX is not null) Require.Like(op, nameof(gradX), gradX, x, nameof(x));
        if (gradOperand is not null) Require.Like(op, gradOperandName, gradOperand, operand, operandName);
        // The operand's gradient reads x and gradOutput, so it goes first: gradX may then overwrite either.
        if (gradOperand is not null) reduce.Launch(x.Device, new ReduceArgs(gradOutput, x, geometry, gradOperand));
        if (gradX is not null) forward.Launch(x.Device, new ForwardArgs(BinaryKind.Mul, gradOutput, operand, gradX, geometry));
    }

    /// <summary>Checks x and its broadcast operand ([C], or [N, C] with x of rank ≥ 2) and returns the broadcast geometry.</summary>
    private static Geometry Check(string op, Tensor x, Tensor operand, string operandName, bool perSample, string xName = "x")
    {
        Require.DType(op, xName, x, DType.F32);
        Require.DType(op, operandName, operand, DType.F32);
        Require.SameDevice(op, operandName, operand, x.Device);
        int channels = x.Shape[-1];
        if (!perSample)
        {
            Require.Shape(op, operandName, operand, channels);
            return new Geometry(x.Count / channels, channels);
        }
        if (x.Shape.Rank < 2) throw new ArgumentException($"{op}: {xName} has shape {x.Shape}, expected [N, .., C] of rank ≥ 2.", xName);
        int samples = x.Shape[0];
        Require.Shape(op, operandName, operand, samples, channels);
        return new Geometry(x.Count / (samples * channels), channels);
    }

    /// <summary>x viewed as [samples, Middle, Channels]; the operand is [samples, Channels] (one sample for a [C] vector).</summary>
    private readonly record struct Geometry(int Middle, int Channels);

    private readonly record struct ForwardArgs(BinaryKind Kind, Tensor X, Tensor Operand, Tensor Output, Geometry Geometry);

    /// <summary>gradOperand = Σ over the broadcast elements of gradOutput, times x where X is given (a multiply's gradient).</summary>
    private readonly record struct ReduceArgs(Tensor GradOutput, Tensor? X, Geometry Geometry, Tensor GradOperand);

    private static readonly OpDispatcher<ForwardArgs> forward =
        new(new KernelVariant<ForwardArgs>("broadcast-forward-portable", KernelTier.Portable, (_, _) => true, LaunchForward));

    private static readonly OpDispatcher<ReduceArgs> reduce =
        new(new KernelVariant<ReduceArgs>("broadcast-reduce-portable", KernelTier.Portable, (_, _) => true, LaunchReduce));

    private static void LaunchForward(Device device, ForwardArgs a)
    {
        var extent = new Index1D(a.Output.Count);
        int sampleSize = a.Geometry.Middle * a.Geometry.Channels;
        if (a.Kind == BinaryKind.Add)
            device.Accelerator.LaunchAutoGrouped(BroadcastKernel<AddOp>, device.Stream, extent,
                a.X.F32View, a.Operand.F32View, a.Output.F32View, sampleSize, a.Geometry.Channels);
        else
            device.Accelerator.LaunchAutoGrouped(BroadcastKernel<MultiplyOp>, device.Stream, extent,
                a.X.F32View, a.Operand.F32View, a.Output.F32View, sampleSize, a.Geometry.Channels);
    }

    private static void LaunchReduce(Device device, ReduceArgs a)
    {
        if (a.X is null)
            Reduce.SumMiddle(device, new ValueTerm(a.GradOutput.F32View), a.Geometry.Middle, a.Geometry.Channels, a.GradOperand);
        else
            Reduce.SumMiddle(device, new ProductTerm(a.GradOutput.F32View, a.X.F32View), a.Geometry.Middle, a.Geometry.Channels, a.GradOperand);
    }

    /// <summary>output[i] = op(x[i], operand[n, c]) with n = i / sampleSize and c = i mod channels.</summary>
    [Kernel(typeof(AddOp)), Kernel(typeof(MultiplyOp))]
    internal static void BroadcastKernel<TOp>(Index1D i, ArrayView<float> x, ArrayView<float> operand, ArrayView<float> output,
        int sampleSize, int channels)
        where TOp : struct, IBinaryOp
        => output[i] = default(TOp).Apply(x[i], operand[i / sampleSize * channels + i % channels]);
}
