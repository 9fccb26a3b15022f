using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The CUDA-tuned fp32 GEMM: shared-memory tiling and register blocking, with exactly the semantics of
/// <see cref="Gemm.MatMul"/> (any M, N, K, transposes through <see cref="GemmLayout"/>'s strides, F32 or F16 B widened
/// on its way into shared memory, a shared operand across the batch, alpha, beta and <see cref="Linear"/>'s bias).
/// Each group computes one block of C for one batch with the main loop <see cref="Accumulate"/>, which the
/// implicit-GEMM convolution (<see cref="Conv2dImplicitGemm"/>) and the GEGLU-fused projection (<see cref="GegluGemm"/>)
/// share through <see cref="IGemmOperands{TB}"/> and their own epilogues. The arithmetic is fp32 throughout (no TF32), so it
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

    /// <summary>The entry point: <typeparamref name="TShape"/> names its register tile and runs <see cref="GemmBody{TB, TWiden}"/>.</summary>
    [Kernel(typeof(float), typeof(WidenF32), typeof(TiledGemm128), ExplicitlyGrouped = true)]
    [Kernel(typeof(Half), typeof(WidenF16), typeof(TiledGemm128), ExplicitlyGrouped = true)]
    internal static void TiledKernel<TB, TWiden, TShape>(
        ArrayView<float> a, ArrayView<TB> b, ArrayView<TB> bias, ArrayView<float> c, GemmLayout p)
        where TB : unmanaged
        where TWiden : struct, IWiden<TB>
        where TShape : struct, ITiledGemmShape =>
        default(TShape).Run(new GemmBody<TB, TWiden>(a, b, bias, c, p));

    /// <summary>
    /// The main loop every tiled kernel shares: the group's block of <paramref name="operands"/>' product, at block
    /// row Grid.IdxY and block column Grid.IdxX, as this thread's register tile. Thread (ty, tx) owns rows
    /// ty + i·ThreadRows and columns tx + j·ThreadCols of the block, so a warp's shared-memory reads of a B row are
    /// consecutive and its stores coalesce. Per K step it stages a Depth-deep slice of op(A) and op(B) in shared
    /// memory, k-major (A as [Depth][rows + pad], B as [Depth][cols + pad]), zero outside the matrices, so no shape
    /// needs to divide the tile; then accumulates outer products of register vectors.
    /// </summary>
    internal static TTile Accumulate<TB, TWiden, TShape, TTile, TRow, TOperands>(in TOperands operands)
        where TB : unmanaged
        where TWiden : struct, IWiden<TB>
        where TShape : struct, ITiledGemmShape
        where TTile : struct, IRegisterTile<TTile, TRow>
        where TRow : struct, IRegisters<TRow>
        where TOperands : struct, IGemmOperands<TB>
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
        int row0 = Grid.IdxY * rows, col0 = Grid.IdxX * cols;
        int m = operands.M, n = operands.N, kTotal = operands.K;
        bool aAlongK = operands.AAlongK, bAlongK = operands.BAlongK;
        TTile sums = default;
        TRow bRow = default;
        for (int k0 = 0; k0 < kTotal; k0 += depth)
        {
            // Consecutive threads walk each operand's contiguous dimension, so the global loads coalesce for either layout.
            for (int e = thread; e < rows * depth; e += threads)
            {
                int i = aAlongK ? e / depth : e % rows, k = aAlongK ? e % depth : e / rows;
                int gm = row0 + i, gk = k0 + k;
                aTile[k * aStride + i] = gm < m && gk < kTotal ? operands.A(gm, gk) : 0f;
            }
            for (int e = thread; e < cols * depth; e += threads)
            {
                int j = bAlongK ? e / depth : e % cols, k = bAlongK ? e % depth : e / cols;
                int gn = col0 + j, gk = k0 + k;
                bTile[k * bStride + j] = gn < n && gk < kTotal ? widen.ToFloat(operands.B(gk, gn)) : 0f;
            }
            Group.Barrier();
            for (int k = 0; k < depth; k++)
            {
                bRow.Load(bTile, k * bStride + tx, threadCols);
                sums.AddOuter(aTile, k * aStride + ty, threadRows, bRow);
            }
            Group.Barrier();
        }
        return sums;
    }

    /// <summary>Hands this thread's tile from <see cref="Accumulate"/> to <paramref name="epilogue"/>, element by element.</summary>
    internal static void Store<TShape, TTile, TRow, TEpilogue>(in TTile sums, in TEpilogue epilogue)
        where TShape : struct, ITiledGemmShape
        where TTile : struct, IRegisterTile<TTile, TRow>
        where TRow : struct, IRegisters<TRow>
        where TEpilogue : struct, IGemmEpilogue
    {
        var (row, col) = Origin<TShape>();
        sums.Store(epilogue, row, default(TShape).ThreadRows, col, default(TShape).ThreadCols);
    }

    /// <summary>
    /// Hands this thread's tile from <see cref="Accumulate"/> to <paramref name="epilogue"/> in pairs: block column c
    /// with block column c + cols / 2, for c &lt; cols / 2 (<see cref="IRegisterTile{TSelf, TRow}.StoreHalves"/>).
    /// </summary>
    internal static void StoreHalves<TShape, TTile, TRow, TEpilogue>(in TTile sums, in TEpilogue epilogue)
        where TShape : struct, ITiledGemmShape
        where TTile : struct, IRegisterTile<TTile, TRow>
        where TRow : struct, IRegisters<TRow>
        where TEpilogue : struct, IGemmPairEpilogue
    {
        var (row, col) = Origin<TShape>();
        sums.StoreHalves(epilogue, row, default(TShape).ThreadRows, col, default(TShape).ThreadCols);
    }

    /// <summary>The row and column of this thread's first element in the product.</summary>
    private static (int Row, int Col) Origin<TShape>() where TShape : struct, ITiledGemmShape
    {
        var shape = default(TShape);
        int thread = Group.IdxX;
        return (Grid.IdxY * shape.ThreadRows * shape.RowsPerThread + thread / shape.ThreadCols,
            Grid.IdxX * shape.ThreadCols * shape.ColsPerThread + thread % shape.ThreadCols);
    }

    /// <summary>A GEMM's kernel body: one batch (Grid.IdxZ) of <see cref="Gemm.MatMul"/> with <see cref="GemmEpilogue{TB, TWiden}"/>.</summary>
    private readonly struct GemmBody<TB, TWiden>(
        ArrayView<float> a, ArrayView<TB> b, ArrayView<TB> bias, ArrayView<float> c, GemmLayout p) : ITiledBody
        where TB : unmanaged
        where TWiden : struct, IWiden<TB>
    {
        public void Run<TShape, TTile, TRow>()
            where TShape : struct, ITiledGemmShape
            where TTile : struct, IRegisterTile<TTile, TRow>
            where TRow : struct, IRegisters<TRow>
        {
            int batch = Grid.IdxZ;
            var sums = Accumulate<TB, TWiden, TShape, TTile, TRow, GemmOperands<TB>>(new GemmOperands<TB>(a, b, p, batch));
            Store<TShape, TTile, TRow, GemmEpilogue<TB, TWiden>>(sums, new GemmEpilogue<TB, TWiden>(bias, c, p, batch));
        }
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
