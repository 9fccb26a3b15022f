using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Axis permutations of F32, F16 and I32 tensors of rank 1 to 4 (head splits, transposes). Each returns a new tensor;
/// one generic kernel gathers one output element per thread.
/// </summary>
public static class Permute
{
    /// <summary>The largest rank <see cref="Apply"/> accepts.</summary>
    public const int MaxRank = 4;

    /// <summary>
    /// The tensor y with y.Shape[k] = x.Shape[axes[k]] and y[i0, .., ik] = x at index i_k on axis axes[k]
    /// (numpy/torch <c>permute</c>); <paramref name="axes"/> is a permutation of 0 .. rank − 1.
    /// </summary>
    public static Tensor Apply(Tensor x, params int[] axes)
    {
        ArgumentNullException.ThrowIfNull(axes);
        CheckAxes(x, axes);
        var inShape = x.Shape.ToArray();
        var outShape = axes.Select(a => inShape[a]).ToArray();
        var output = Tensor.Empty(x.Device, x.DType, outShape);
        dispatcher.Launch(x.Device, new PermuteArgs(x, output, Plan(inShape, axes)));
        return output;
    }

    /// <summary>[R, C] → [C, R].</summary>
    public static Tensor Transpose(Tensor x)
    {
        Require.Rank(nameof(Transpose), nameof(x), x, 2);
        return Apply(x, 1, 0);
    }

    private static void CheckAxes(Tensor x, int[] axes)
    {
        int rank = x.Shape.Rank;
        if (rank > MaxRank) throw new ArgumentException($"{nameof(Permute)}: x has shape {x.Shape}; at most rank {MaxRank} is supported.", nameof(x));
        if (axes.Length != rank || axes.Any(a => a < 0 || a >= rank) || axes.Distinct().Count() != rank)
            throw new ArgumentException($"{nameof(Permute)}: axes [{string.Join(", ", axes)}] are not a permutation of the {rank} axes of x {x.Shape}.", nameof(axes));
    }

    /// <summary>Pads to rank 4 with leading unit axes and pairs each output axis with its input stride.</summary>
    private static Geometry Plan(int[] inShape, int[] axes)
    {
        int pad = MaxRank - inShape.Length;
        var inStrides = new int[inShape.Length];
        for (int k = inShape.Length - 1, stride = 1; k >= 0; stride *= inShape[k], k--) inStrides[k] = stride;
        var dims = new int[MaxRank];
        var strides = new int[MaxRank];
        for (int k = 0; k < MaxRank; k++)
        {
            bool padded = k < pad;
            dims[k] = padded ? 1 : inShape[axes[k - pad]];
            strides[k] = padded ? 0 : inStrides[axes[k - pad]];
        }
        return new Geometry(dims[1], dims[2], dims[3], strides[0], strides[1], strides[2], strides[3]);
    }

    /// <summary>The output extents of axes 1–3 (axis 0 follows from the element count) and the input stride of each output axis.</summary>
    internal readonly record struct Geometry(int D1, int D2, int D3, int S0, int S1, int S2, int S3);

    private readonly record struct PermuteArgs(Tensor X, Tensor Output, Geometry Geometry);

    private static readonly OpDispatcher<PermuteArgs> dispatcher =
        new(new KernelVariant<PermuteArgs>("permute-portable", KernelTier.Portable, (_, _) => true, LaunchPortable));

    private static void LaunchPortable(Device device, PermuteArgs a)
    {
        var acc = device.Accelerator;
        var extent = new Index1D(a.X.Count);
        switch (a.X.DType)
        {
            case DType.F32: acc.LaunchAutoGrouped(PermuteKernel, device.Stream, extent, a.X.F32View, a.Output.F32View, a.Geometry); break;
            case DType.F16: acc.LaunchAutoGrouped(PermuteKernel, device.Stream, extent, a.X.F16View, a.Output.F16View, a.Geometry); break;
            case DType.I32: acc.LaunchAutoGrouped(PermuteKernel, device.Stream, extent, a.X.I32View, a.Output.I32View, a.Geometry); break;
        }
    }

    /// <summary>One thread per output element: decompose its index over the output extents, gather through the strides.</summary>
    [Kernel(typeof(float)), Kernel(typeof(ILGPU.Half)), Kernel(typeof(int))]
    internal static void PermuteKernel<T>(Index1D i, ArrayView<T> input, ArrayView<T> output, Geometry g)
        where T : unmanaged
    {
        int o3 = i % g.D3, rest = i / g.D3;
        int o2 = rest % g.D2; rest /= g.D2;
        int o1 = rest % g.D1, o0 = rest / g.D1;
        output[i] = input[o0 * g.S0 + o1 * g.S1 + o2 * g.S2 + o3 * g.S3];
    }
}
