using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>Validated arguments of a softmax forward: y = softmax(scale · x) over rows of <c>Cols</c>, optionally causal.</summary>
internal readonly record struct SoftmaxForwardArgs(Tensor X, int Cols, float Scale, bool Causal, Tensor Y);

/// <summary>Validated arguments of a softmax backward: dx from the forward's output y and the output gradient dy.</summary>
internal readonly record struct SoftmaxBackwardArgs(Tensor Y, Tensor Dy, int Cols, float Scale, Tensor Dx);

/// <summary>
/// Softmax over the last dim of an F32 tensor, numerically stable (the row maximum is subtracted before exp), with
/// an optional scale applied to the logits first (attention's 1/√d) and an optional causal mask for square
/// [.., L, L] blocks (column j &gt; query i is −∞, as in the CLIP text encoder). Forward and backward side by side;
/// portable tier: one thread per row.
/// </summary>
public static class Softmax
{
    private const string ForwardOp = "Softmax.Forward", BackwardOp = "Softmax.Backward";

    private static readonly OpDispatcher<SoftmaxForwardArgs> forward = new(
        new KernelVariant<SoftmaxForwardArgs>("softmax-forward-portable", KernelTier.Portable, (_, _) => true, LaunchForward));

    private static readonly OpDispatcher<SoftmaxBackwardArgs> backward = new(
        new KernelVariant<SoftmaxBackwardArgs>("softmax-backward-portable", KernelTier.Portable, (_, _) => true, LaunchBackward));

    /// <summary>
    /// y = softmax(<paramref name="scale"/> · x) over x's last dim. With <paramref name="causal"/>, x must end in a
    /// square [L, L] block (rank ≥ 2) and entry (i, j) of each block with j &gt; i gets probability 0.
    /// Returns a new tensor of x's shape.
    /// </summary>
    public static Tensor Forward(Tensor x, float scale = 1f, bool causal = false)
    {
        Require.DType(ForwardOp, nameof(x), x, DType.F32);
        Require.Finite(ForwardOp, nameof(scale), scale);
        int cols = x.Shape[-1];
        if (causal && (x.Shape.Rank < 2 || x.Shape[-2] != cols))
            throw new ArgumentException($"{ForwardOp}: a causal mask needs x to end in a square [L, L] block; x is {x.Shape}.", nameof(x));
        var y = Tensor.Empty(x.Device, DType.F32, x.Shape.ToArray());
        forward.Launch(x.Device, new SoftmaxForwardArgs(x, cols, scale, causal, y));
        return y;
    }

    /// <summary>
    /// dx = scale · y ⊙ (dy − Σ_row dy ⊙ y), the gradient of <see cref="Forward"/> with respect to x, from its output
    /// <paramref name="y"/> (masked entries are 0 there, so they get no gradient) and the output gradient
    /// <paramref name="dy"/>. Returns a new tensor of y's shape.
    /// </summary>
    public static Tensor Backward(Tensor y, Tensor dy, float scale = 1f)
    {
        Require.DType(BackwardOp, nameof(y), y, DType.F32);
        Require.DType(BackwardOp, nameof(dy), dy, DType.F32);
        Require.SameDevice(BackwardOp, nameof(dy), dy, y.Device);
        Require.SameShape(BackwardOp, nameof(dy), dy, y, nameof(y));
        Require.Finite(BackwardOp, nameof(scale), scale);
        var dx = Tensor.Empty(y.Device, DType.F32, y.Shape.ToArray());
        backward.Launch(y.Device, new SoftmaxBackwardArgs(y, dy, y.Shape[-1], scale, dx));
        return dx;
    }

    private static void LaunchForward(Device device, SoftmaxForwardArgs a) =>
        device.Accelerator.LaunchAutoGrouped(ForwardKernel, device.Stream, new Index1D(a.X.Count / a.Cols),
            a.X.F32View, a.Cols, a.Scale, a.Causal ? 1 : 0, a.Y.F32View);

    private static void LaunchBackward(Device device, SoftmaxBackwardArgs a) =>
        device.Accelerator.LaunchAutoGrouped(BackwardKernel, device.Stream, new Index1D(a.Y.Count / a.Cols),
            a.Y.F32View, a.Dy.F32View, a.Cols, a.Scale, a.Dx.F32View);

    /// <summary>
    /// One thread per row: the maximum of the scaled logits, Σ exp(logit − max), then the probabilities. When
    /// <paramref name="causal"/> is 1 the row's query index is row mod cols and only columns 0..query take part.
    /// </summary>
    [Kernel]
    internal static void ForwardKernel(Index1D row, ArrayView<float> x, int cols, float scale, int causal, ArrayView<float> y)
    {
        int start = row * cols;
        int visible = causal != 0 ? row % cols + 1 : cols;
        float max = float.NegativeInfinity;
        for (int j = 0; j < visible; j++) max = Math.Max(max, scale * x[start + j]);
        float sum = 0f;
        for (int j = 0; j < visible; j++) sum += MathF.Exp(scale * x[start + j] - max);
        float inverse = 1f / sum;
        for (int j = 0; j < visible; j++) y[start + j] = MathF.Exp(scale * x[start + j] - max) * inverse;
        for (int j = visible; j < cols; j++) y[start + j] = 0f;
    }

    /// <summary>One thread per row: dot = Σ dy·y over the row, then dx = scale·y·(dy − dot).</summary>
    [Kernel]
    internal static void BackwardKernel(Index1D row, ArrayView<float> y, ArrayView<float> dy, int cols, float scale, ArrayView<float> dx)
    {
        int start = row * cols;
        float dot = 0f;
        for (int j = start; j < start + cols; j++) dot += dy[j] * y[j];
        for (int j = start; j < start + cols; j++) dx[j] = scale * y[j] * (dy[j] - dot);
    }
}
