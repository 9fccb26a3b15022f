using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The tensor-core GEMM for F16 weights: fp16 operands, fp32 accumulation (<see cref="TensorCore"/>'s m16n8k16),
/// with the semantics of <see cref="Gemm.MatMul"/> otherwise (any M, N, K, transposes, a shared operand across the
/// batch, alpha, beta, <see cref="Linear"/>'s bias). Each group stages a Depth-deep slice of op(A), converted from
/// the F32 activations to F16 (<see cref="TensorCore.ToHalf"/>: round to nearest even), and of op(B) in shared
/// memory as packed fp16 pairs, zero outside the matrices; each warp then runs its m16n8 tiles over the slice 16 k
/// at a time and the epilogue applies alpha, bias and beta in fp32. Rounding A to F16 is the only extra error (about
/// 2⁻¹¹ relative per element), which is why this path is held to the fp16 bound (5e-3), never to the f32 parity
/// bound, and runs only for F16 weights.
/// </summary>
/// <remarks>
/// Inline PTX cannot run on the CPU accelerator, so until a GPU run has validated it the variant is off by default
/// (<see cref="KernelPolicy.TensorCores"/>) and, when enabled, checks itself on first use on each device
/// (<see cref="GemmSelfCheck"/>).
/// </remarks>
internal static class TensorCoreGemm
{
    /// <summary>Words of padding per shared-memory row, so that the 32 lanes' fragment loads hit 32 distinct banks.</summary>
    private const int Padding = 4;

    /// <summary>
    /// The dispatcher's variant for <typeparamref name="TShape"/>: CUDA devices with 32-lane warps, tensor cores
    /// enabled, F16 B, F32 output, a grid that fits.
    /// </summary>
    public static KernelVariant<GemmArgs> Variant<TShape>(string name) where TShape : struct, ITensorCoreShape =>
        new(name, KernelTier.CudaTuned,
            (device, args) => device.Kind == DeviceKind.Cuda && KernelPolicy.TensorCores
                && args.B.DType == DType.F16 && args.C.DType == DType.F32 && Config<TShape>(device, args) is not null,
            Launch<TShape>);

    /// <summary>The block, group and shared memory of <typeparamref name="TShape"/> (warps of 32 lanes).</summary>
    public static GemmBlock Block<TShape>() where TShape : struct, ITensorCoreShape
    {
        var shape = default(TShape);
        int rows = shape.WarpRows * shape.TileRows * 16, cols = shape.WarpCols * shape.TileCols * 8;
        return new GemmBlock(rows, cols, shape.WarpRows * shape.WarpCols * 32, (rows + cols) * (shape.Depth / 2 + Padding));
    }

    /// <summary>Runs a validated GEMM whose B is F16 with <typeparamref name="TShape"/> on any device with 32-lane warps.</summary>
    /// <exception cref="InvalidOperationException">B is not F16, or the shape does not fit the device.</exception>
    public static void Launch<TShape>(Device device, GemmArgs args) where TShape : struct, ITensorCoreShape
    {
        if (args.B.DType != DType.F16)
            throw new InvalidOperationException($"{typeof(TShape).Name}: B is {args.B.DType}; tensor cores take F16 weights.");
        var config = Config<TShape>(device, args) ?? throw Block<TShape>().DoesNotFit(typeof(TShape).Name, device, args);
        Loaded<TShape>.Kernel.On(device.Accelerator)(device.Stream, config,
            args.A.F32View, args.B.F16View, args.Bias?.F16View ?? ArrayView<Half>.Empty, args.C.F32View, GemmLayout.Of(args));
    }

    private static KernelConfig? Config<TShape>(Device device, GemmArgs args) where TShape : struct, ITensorCoreShape =>
        device.Accelerator.WarpSize == 32 && default(TShape).Depth % 16 == 0
            ? Block<TShape>().ConfigFor(device.Accelerator, args)
            : null;

    /// <summary>The entry point: <typeparamref name="TShape"/> names its warp tile and runs <see cref="GemmBody"/>.</summary>
    [Kernel(typeof(TensorCoreGemm128), ExplicitlyGrouped = true)]
    internal static void TensorCoreKernel<TShape>(
        ArrayView<float> a, ArrayView<Half> b, ArrayView<Half> bias, ArrayView<float> c, GemmLayout p)
        where TShape : struct, ITensorCoreShape =>
        default(TShape).Run(new GemmBody(a, b, bias, c, p));

    /// <summary>
    /// The main loop every tensor-core kernel shares: the group's block of <paramref name="operands"/>' product, at
    /// block row Grid.IdxY and block column Grid.IdxX, as this lane's part of its warp's tile. Warp w owns the warp
    /// tile at (w / WarpCols, w % WarpCols); shared memory holds the slices as rows of packed pairs, A as
    /// [rows][Depth / 2 + pad] and B as [cols][Depth / 2 + pad] (B transposed, k contiguous, which is the layout of
    /// its fragments). A is rounded to F16 on its way in (<see cref="TensorCore.ToHalf"/>).
    /// </summary>
    internal static TTile Accumulate<TShape, TTile, TOperands>(in TOperands operands)
        where TShape : struct, ITensorCoreShape
        where TTile : struct, IMmaTile<TTile>
        where TOperands : struct, IGemmOperands<Half>
    {
        var shape = default(TShape);
        int pairs = shape.Depth / 2, stride = pairs + Padding;
        int warpRows = shape.TileRows * 16, warpCols = shape.TileCols * 8;
        int rows = shape.WarpRows * warpRows, cols = shape.WarpCols * warpCols;
        var shared = SharedMemory.GetDynamic<uint>();
        var aTile = shared.SubView(0, rows * stride);
        var bTile = shared.SubView(rows * stride, cols * stride);

        int thread = Group.IdxX, threads = Group.DimX;
        int warp = Warp.WarpIdx, g = Warp.LaneIdx >> 2, t = Warp.LaneIdx & 3;
        int warpRow = warp / shape.WarpCols * warpRows, warpCol = warp % shape.WarpCols * warpCols;
        int row0 = Grid.IdxY * rows, col0 = Grid.IdxX * cols;
        int m = operands.M, n = operands.N, kTotal = operands.K;
        bool aAlongK = operands.AAlongK, bAlongK = operands.BAlongK;
        TTile sums = default;
        for (int k0 = 0; k0 < kTotal; k0 += shape.Depth)
        {
            // Consecutive threads walk each operand's contiguous dimension, so the global loads coalesce for either layout.
            for (int e = thread; e < rows * pairs; e += threads)
            {
                int i = aAlongK ? e / pairs : e % rows, pair = aAlongK ? e % pairs : e / rows;
                int gm = row0 + i, gk = k0 + 2 * pair;
                float low = gm < m && gk < kTotal ? operands.A(gm, gk) : 0f;
                float high = gm < m && gk + 1 < kTotal ? operands.A(gm, gk + 1) : 0f;
                aTile[i * stride + pair] = TensorCore.Pack(TensorCore.ToHalf(low), TensorCore.ToHalf(high));
            }
            for (int e = thread; e < cols * pairs; e += threads)
            {
                int j = bAlongK ? e / pairs : e % cols, pair = bAlongK ? e % pairs : e / cols;
                int gn = col0 + j, gk = k0 + 2 * pair;
                var low = gn < n && gk < kTotal ? operands.B(gk, gn) : default;
                var high = gn < n && gk + 1 < kTotal ? operands.B(gk + 1, gn) : default;
                bTile[j * stride + pair] = TensorCore.Pack(low, high);
            }
            Group.Barrier();
            for (int word = 0; word < pairs; word += 8)
                sums.Mma(aTile, (warpRow + g) * stride + word + t, bTile, (warpCol + g) * stride + word + t, stride);
            Group.Barrier();
        }
        return sums;
    }

    /// <summary>Hands this lane's part of the tile from <see cref="Accumulate"/> to <paramref name="epilogue"/>, element by element.</summary>
    internal static void Store<TShape, TTile, TEpilogue>(in TTile sums, in TEpilogue epilogue)
        where TShape : struct, ITensorCoreShape
        where TTile : struct, IMmaTile<TTile>
        where TEpilogue : struct, IGemmEpilogue
    {
        var (row, col) = Origin<TShape>();
        sums.Store(epilogue, row, col);
    }

    /// <summary>
    /// Hands this lane's part of the tile from <see cref="Accumulate"/> to <paramref name="epilogue"/> in pairs: warp
    /// tile column c with warp tile column c + TileCols · 4, for c &lt; TileCols · 4 (<see cref="IMmaTile{TSelf}.StoreHalves"/>).
    /// </summary>
    internal static void StoreHalves<TShape, TTile, TEpilogue>(in TTile sums, in TEpilogue epilogue)
        where TShape : struct, ITensorCoreShape
        where TTile : struct, IMmaTile<TTile>
        where TEpilogue : struct, IGemmPairEpilogue
    {
        var (row, col) = Origin<TShape>();
        sums.StoreHalves(epilogue, row, col);
    }

    /// <summary>The row and column of this lane's c0 in its warp's first tile.</summary>
    private static (int Row, int Col) Origin<TShape>() where TShape : struct, ITensorCoreShape
    {
        var shape = default(TShape);
        int warpRows = shape.TileRows * 16, warpCols = shape.TileCols * 8;
        int warp = Warp.WarpIdx, g = Warp.LaneIdx >> 2, t = Warp.LaneIdx & 3;
        return (Grid.IdxY * shape.WarpRows * warpRows + warp / shape.WarpCols * warpRows + g,
            Grid.IdxX * shape.WarpCols * warpCols + warp % shape.WarpCols * warpCols + 2 * t);
    }

    /// <summary>A GEMM's kernel body: one batch (Grid.IdxZ) of <see cref="Gemm.MatMul"/> with <see cref="GemmEpilogue{TB, TWiden}"/>.</summary>
    private readonly struct GemmBody(
        ArrayView<float> a, ArrayView<Half> b, ArrayView<Half> bias, ArrayView<float> c, GemmLayout p) : ITensorCoreBody
    {
        public void Run<TShape, TTile>()
            where TShape : struct, ITensorCoreShape
            where TTile : struct, IMmaTile<TTile>
        {
            int batch = Grid.IdxZ;
            var sums = Accumulate<TShape, TTile, GemmOperands<Half>>(new GemmOperands<Half>(a, b, p, batch));
            Store<TShape, TTile, GemmEpilogue<Half, WidenF16>>(sums, new GemmEpilogue<Half, WidenF16>(bias, c, p, batch));
        }
    }

    /// <summary>The kernel of one shape, loaded once per accelerator.</summary>
    private static class Loaded<TShape> where TShape : struct, ITensorCoreShape
    {
        public static readonly GroupedKernel<
            Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<Half>, ArrayView<Half>, ArrayView<float>, GemmLayout>> Kernel =
            new(accelerator => accelerator.LoadKernel<ArrayView<float>, ArrayView<Half>, ArrayView<Half>, ArrayView<float>, GemmLayout>(
                TensorCoreKernel<TShape>), Block<TShape>().SharedBytes);
    }
}
