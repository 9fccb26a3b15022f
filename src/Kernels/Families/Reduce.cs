using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Deterministic reductions of F32 tensors. A whole-tensor sum adds fixed-size chunks sequentially, one thread per
/// chunk, and repeats passes until one value is left; a reduction over some dimensions runs one thread per output
/// element that loops over the reduced elements in a fixed order with compensated (Kahan) summation. Nothing depends
/// on thread timing or float atomics, so results are bit-identical from run to run.
/// </summary>
public static class Reduce
{
    /// <summary>Elements each thread of one pass adds up.</summary>
    internal const int ChunkSize = 256;

    /// <summary>The sum of all elements, as a one-element F32 tensor on the same device.</summary>
    public static Tensor Sum(Tensor x)
    {
        Require.DType(nameof(Sum), nameof(x), x, DType.F32);
        var output = Tensor.Empty(x.Device, DType.F32, 1);
        total.Launch(x.Device, new TotalArgs(x, 1f, output));
        return output;
    }

    /// <summary>The mean of all elements, as a one-element F32 tensor on the same device.</summary>
    public static Tensor Mean(Tensor x)
    {
        Require.DType(nameof(Mean), nameof(x), x, DType.F32);
        var output = Tensor.Empty(x.Device, DType.F32, 1);
        total.Launch(x.Device, new TotalArgs(x, 1f / x.Count, output));
        return output;
    }

    /// <summary>[.., C] → [C]: the sum over every dimension but the last (a bias gradient).</summary>
    public static Tensor SumToLastDim(Tensor x)
    {
        Require.DType(nameof(SumToLastDim), nameof(x), x, DType.F32);
        int channels = x.Shape[-1];
        var output = Tensor.Empty(x.Device, DType.F32, channels);
        axis.Launch(x.Device, new AxisArgs(x, x.Count / channels, channels, output));
        return output;
    }

    /// <summary>[.., C] → [..]: the sum over the last dimension (row sums: [R, C] → [R]; a vector [C] gives [1]).</summary>
    public static Tensor SumLastDim(Tensor x)
    {
        Require.DType(nameof(SumLastDim), nameof(x), x, DType.F32);
        var shape = x.Shape.Rank == 1 ? [1] : x.Shape.ToArray()[..^1];
        var output = Tensor.Empty(x.Device, DType.F32, shape);
        axis.Launch(x.Device, new AxisArgs(x, x.Shape[-1], 1, output));
        return output;
    }

    /// <summary>
    /// output[0] = scale · Σ term.At(i) over flat i &lt; <paramref name="length"/>: a chunk pass over the terms, then
    /// passes over the chunk sums until one chunk is left, whose pass applies the scale and writes the one-element output.
    /// </summary>
    internal static void SumTerms<TTerm>(Device device, TTerm term, int length, float scale, Tensor output)
        where TTerm : struct, IElementTerm
    {
        int chunks = (length + ChunkSize - 1) / ChunkSize;
        if (chunks == 1)
        {
            LaunchChunks(device, term, length, scale, output);
            return;
        }
        using var partial = Tensor.Empty(device, DType.F32, chunks);
        LaunchChunks(device, term, length, 1f, partial);
        SumTerms(device, new ValueTerm(partial.F32View), chunks, scale, output);
    }

    /// <summary>
    /// Views the terms as [outer, middle, inner] and writes output[o·inner + c] = Σ_m term.At((o·middle + m)·inner + c)
    /// for the outer·inner elements of <paramref name="output"/> (validated by the caller).
    /// </summary>
    internal static void SumMiddle<TTerm>(Device device, TTerm term, int middle, int inner, Tensor output)
        where TTerm : struct, IElementTerm
        => device.Accelerator.LaunchAutoGrouped(SumMiddleKernel, device.Stream, new Index1D(output.Count), term, middle, inner, output.F32View);

    private static void LaunchChunks<TTerm>(Device device, TTerm term, int length, float scale, Tensor partial)
        where TTerm : struct, IElementTerm
        => device.Accelerator.LaunchAutoGrouped(SumChunksKernel, device.Stream, new Index1D(partial.Count), term, length, scale, partial.F32View);

    private readonly record struct TotalArgs(Tensor X, float Scale, Tensor Output);

    private readonly record struct AxisArgs(Tensor X, int Middle, int Inner, Tensor Output);

    private static readonly OpDispatcher<TotalArgs> total =
        new(new KernelVariant<TotalArgs>("reduce-total-portable", KernelTier.Portable, (_, _) => true,
            (device, a) => SumTerms(device, new ValueTerm(a.X.F32View), a.X.Count, a.Scale, a.Output)));

    private static readonly OpDispatcher<AxisArgs> axis =
        new(new KernelVariant<AxisArgs>("reduce-axis-portable", KernelTier.Portable, (_, _) => true,
            (device, a) => SumMiddle(device, new ValueTerm(a.X.F32View), a.Middle, a.Inner, a.Output)));

    /// <summary>One thread per chunk: partial[chunk] = scale · Σ term.At(i) over the chunk, in index order.</summary>
    [Kernel(typeof(ValueTerm)), Kernel(typeof(SquaredErrorTerm)), Kernel(typeof(WeightedSquaredErrorTerm))]
    internal static void SumChunksKernel<TTerm>(Index1D chunk, TTerm term, int length, float scale, ArrayView<float> partial)
        where TTerm : struct, IElementTerm
    {
        int start = chunk * ChunkSize;
        int end = Math.Min(start + ChunkSize, length);
        float sum = 0f;
        for (int i = start; i < end; i++) sum += term.At(i);
        partial[chunk] = scale * sum;
    }

    /// <summary>
    /// One thread per output element (o, c): the Kahan-compensated sum of term.At((o·middle + m)·inner + c) over m in order.
    /// </summary>
    [Kernel(typeof(ValueTerm)), Kernel(typeof(ProductTerm))]
    internal static void SumMiddleKernel<TTerm>(Index1D i, TTerm term, int middle, int inner, ArrayView<float> output)
        where TTerm : struct, IElementTerm
    {
        int o = i / inner, c = i - o * inner;
        int index = o * middle * inner + c;
        float sum = 0f, compensation = 0f;
        for (int m = 0; m < middle; m++, index += inner)
        {
            float y = term.At(index) - compensation;
            float t = sum + y;
            compensation = (t - sum) - y;
            sum = t;
        }
        output[i] = sum;
    }
}
