using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The CUDA-tuned fp32 GEMM: shared-memory tiling and register blocking, with exactly the semantics of
/// <see cref="Gemm.MatMul"/> (any M, N, K, transposes through <see cref="GemmLayout"/>'s strides, F32 or F16 B widened
/// on its way into shared memory, a shared operand across the batch, alpha, beta and <see cref="Linear"/>'s bias).
/// Each group computes one block of C for one batch: per K step it stages a Depth-deep slice of op(A) and op(B) in
/// shared memory (zero outside the matrices, so no shape needs to divide the tile), then every thread accumulates
/// its TM × TN outputs as outer products of register vectors. The arithmetic is fp32 throughout (no TF32), so it
/// keeps the f32 parity bounds; only the summation order differs from the portable kernel.
/// </summary>
internal static class TiledGemm
{
    /// <summary>Floats of padding per shared-memory row, so that a warp storing a column of a tile hits distinct banks.</summary>
    private const int Padding = 4;

    /// <summary>The dispatcher's variant for <typeparamref name="TShape"/>: CUDA devices, F32 output, a grid that fits.</summary>
    public static KernelVariant<GemmArgs> Variant<TShape>(string name) where TShape : struct, ITiledGemmShape =>
        new(name, KernelTier.CudaTuned,
            (device, args) => device.Kind == DeviceKind.Cuda && args.C.DType == DType.F32
                && Block<TShape>().ConfigFor(device.Accelerator, args) is not null,
            Launch<TShape>);

    /// <summary>The block, group and shared memory of <typeparamref name="TShape"/>.</summary>
    public static GemmBlock Block<TShape>() where TShape : struct, ITiledGemmShape
    {
        var shape = default(TShape);
        int rows = shape.ThreadRows * shape.RowsPerThread, cols = shape.ThreadCols * shape.ColsPerThread;
        return new GemmBlock(rows, cols, shape.ThreadRows * shape.ThreadCols, shape.Depth * (rows + Padding + cols + Padding));
    }

    /// <summary>Runs a validated GEMM with <typeparamref name="TShape"/> on any device (the CPU accelerator too, for tests).</summary>
    /// <exception cref="InvalidOperationException">The group or grid does not fit the device.</exception>
    public static void Launch<TShape>(Device device, GemmArgs args) where TShape : struct, ITiledGemmShape
    {
        var block = Block<TShape>();
        var config = block.ConfigFor(device.Accelerator, args) ?? throw block.DoesNotFit(typeof(TShape).Name, device, args);
        var layout = GemmLayout.Of(args);
        if (args.B.DType == DType.F16)
            Loaded<Half, WidenF16, TShape>.Kernel.On(device.Accelerator)(device.Stream, config,
                args.A.F32View, args.B.F16View, args.Bias?.F16View ?? ArrayView<Half>.Empty, args.C.F32View, layout);
        else
            Loaded<float, WidenF32, TShape>.Kernel.On(device.Accelerator)(device.Stream, config,
                args.A.F32View, args.B.F32View, args.Bias?.F32View ?? ArrayView<float>.Empty, args.C.F32View, layout);
    }

    /// <summary>The entry point: <typeparamref name="TShape"/> names its register tile and calls <see cref="Body"/>.</summary>
    [Kernel(typeof(float), typeof(WidenF32), typeof(TiledGemm128), ExplicitlyGrouped = true)]
    [Kernel(typeof(Half), typeof(WidenF16), typeof(TiledGemm128), ExplicitlyGrouped = true)]
    internal static void TiledKernel<TB, TWiden, TShape>(
        ArrayView<float> a, ArrayView<TB> b, ArrayView<TB> bias, ArrayView<float> c, GemmLayout p)
        where TB : unmanaged
        where TWiden : struct, IWiden<TB>
        where TShape : struct, ITiledGemmShape =>
        default(TShape).Run<TB, TWiden>(a, b, bias, c, p);

    /// <summary>
    /// One group's block. Thread (ty, tx) owns rows ty + i·ThreadRows and columns tx + j·ThreadCols of the block, so
    /// a warp's shared-memory reads of a B row are consecutive and its stores of C coalesce. Shared memory holds the
    /// slices k-major: A as [Depth][rows + pad], B as [Depth][cols + pad].
    /// </summary>
    internal static void Body<TB, TWiden, TShape, TTile, TRow>(
        ArrayView<float> a, ArrayView<TB> b, ArrayView<TB> bias, ArrayView<float> c, GemmLayout p)
        where TB : unmanaged
        where TWiden : struct, IWiden<TB>
        where TShape : struct, ITiledGemmShape
        where TTile : struct, IRegisterTile<TTile, TRow>
        where TRow : struct, IRegisters<TRow>
    {
        var shape = default(TShape);
        var widen = default(TWiden);
        int threadRows = shape.ThreadRows, threadCols = shape.ThreadCols, depth = shape.Depth;
        int rows = threadRows * shape.RowsPerThread, cols = threadCols * shape.ColsPerThread;
        int aStride = rows + Padding, bStride = cols + Padding;
        var shared = SharedMemory.GetDynamic<float>();
        var aTile = shared.SubView(0, depth * aStride);
        var bTile = shared.SubView(depth * aStride, depth * bStride);

        int thread = Group.IdxX, threads = threadRows * threadCols;
        int ty = thread / threadCols, tx = thread % threadCols;
        int row0 = Grid.IdxY * rows, col0 = Grid.IdxX * cols, batch = Grid.IdxZ;
        int aBase = batch * p.ABatch, bBase = batch * p.BBatch;
        TTile sums = default;
        TRow bRow = default;
        for (int k0 = 0; k0 < p.K; k0 += depth)
        {
            // Consecutive threads walk each operand's contiguous dimension, so the global loads coalesce for either transpose.
            for (int e = thread; e < rows * depth; e += threads)
            {
                int m = p.AK == 1 ? e / depth : e % rows, k = p.AK == 1 ? e % depth : e / rows;
                int gm = row0 + m, gk = k0 + k;
                aTile[k * aStride + m] = gm < p.M && gk < p.K ? a[aBase + gm * p.ARow + gk * p.AK] : 0f;
            }
            for (int e = thread; e < cols * depth; e += threads)
            {
                int n = p.BK == 1 ? e / depth : e % cols, k = p.BK == 1 ? e % depth : e / cols;
                int gn = col0 + n, gk = k0 + k;
                bTile[k * bStride + n] = gn < p.N && gk < p.K ? widen.ToFloat(b[bBase + gk * p.BK + gn * p.BCol]) : 0f;
            }
            Group.Barrier();
            for (int k = 0; k < depth; k++)
            {
                bRow.Load(bTile, k * bStride + tx, threadCols);
                sums.AddOuter(aTile, k * aStride + ty, threadRows, bRow);
            }
            Group.Barrier();
        }
        sums.Store(new GemmEpilogue<TB, TWiden>(bias, c, p, batch), row0 + ty, threadRows, col0 + tx, threadCols);
    }

    /// <summary>The kernel of one instantiation, loaded once per accelerator.</summary>
    private static class Loaded<TB, TWiden, TShape>
        where TB : unmanaged
        where TWiden : struct, IWiden<TB>
        where TShape : struct, ITiledGemmShape
    {
        public static readonly GroupedKernel<
            Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<TB>, ArrayView<TB>, ArrayView<float>, GemmLayout>> Kernel =
            new(accelerator => accelerator.LoadKernel<ArrayView<float>, ArrayView<TB>, ArrayView<TB>, ArrayView<float>, GemmLayout>(
                TiledKernel<TB, TWiden, TShape>), Block<TShape>().SharedBytes);
    }
}
