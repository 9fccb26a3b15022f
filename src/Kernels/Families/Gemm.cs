using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Batched matrix multiplication C[b] = alpha · op(A[b]) · op(B[b]) + beta · C[b], op = identity or transpose per
/// operand. A and C are F32; B is F32 or F16 (weights, widened in the kernel's loads); accumulation is fp32.
/// <see cref="Linear"/> launches through the same dispatcher, and other families whose work is a plain GEMM
/// (attention's products) can call <see cref="MatMul"/>, so one tuned variant added here serves them all.
/// </summary>
public static class Gemm
{
    private const string MatMulName = nameof(Gemm) + "." + nameof(MatMul);

    /// <summary>The portable kernel: what the CPU accelerator runs, and the reference the tuned variants are checked against.</summary>
    internal static readonly KernelVariant<GemmArgs> Portable =
        new("gemm-portable", KernelTier.Portable, (_, _) => true, LaunchPortable);

    /// <summary>
    /// On CUDA: tensor cores for F16 weights when enabled and self-checked (<see cref="KernelPolicy.TensorCores"/>),
    /// else the tiled fp32 kernel; the portable kernel everywhere else.
    /// </summary>
    private static readonly OpDispatcher<GemmArgs> dispatcher = new(Portable,
        GemmSelfCheck.Guard(TensorCoreGemm.Variant<TensorCoreGemm128>("gemm-tensor-core-128x128x32"), Portable).Variant,
        TiledGemm.Variant<TiledGemm128>("gemm-tiled-128x128x8"));

    /// <summary>
    /// c = alpha · op(a) · op(b) + beta · c. Each operand is a matrix [rows, cols] or a batch [batch, rows, cols];
    /// op(a) is [M, K] and op(b) [K, N] (transposed when <paramref name="transA"/> / <paramref name="transB"/>).
    /// A matrix operand, or a batch of one, is shared by every batch of the other (B shared across the batch, as
    /// for weights); <paramref name="c"/> is [batch, M, N] when either operand is a batch, else [M, N]. With
    /// <paramref name="beta"/> = 0, c is not read (it may hold anything); beta = 1 accumulates into c.
    /// </summary>
    /// <exception cref="ArgumentException">A dtype, rank or shape does not fit, or c shares storage with a or b.</exception>
    public static void MatMul(Tensor a, Tensor b, Tensor c, bool transA = false, bool transB = false, float alpha = 1f, float beta = 0f) =>
        Launch(a.Device, Arguments(a, b, c, transA, transB, alpha, beta));

    /// <summary>Validates <see cref="MatMul"/>'s operands and returns the GEMM they describe.</summary>
    /// <exception cref="ArgumentException">As for <see cref="MatMul"/>.</exception>
    internal static GemmArgs Arguments(Tensor a, Tensor b, Tensor c, bool transA, bool transB, float alpha, float beta)
    {
        Require.DType(MatMulName, nameof(a), a, DType.F32);
        Require.DType(MatMulName, nameof(b), b, DType.F32, DType.F16);
        Require.DType(MatMulName, nameof(c), c, DType.F32);
        Require.SameDevice(MatMulName, nameof(b), b, a.Device);
        Require.SameDevice(MatMulName, nameof(c), c, a.Device);
        var (aBatch, aRows, aCols) = Matrix(nameof(a), a);
        var (bBatch, bRows, bCols) = Matrix(nameof(b), b);
        int m = transA ? aCols : aRows, k = transA ? aRows : aCols;
        int kb = transB ? bCols : bRows, n = transB ? bRows : bCols;
        if (k != kb)
            throw new ArgumentException(
                $"{MatMulName}: inner dimensions differ: op(a) is [{m}, {k}] (a {a.Shape}{(transA ? " transposed" : "")}) " +
                $"but op(b) is [{kb}, {n}] (b {b.Shape}{(transB ? " transposed" : "")}).", nameof(b));
        if (aBatch != bBatch && aBatch != 1 && bBatch != 1)
            throw new ArgumentException(
                $"{MatMulName}: batch counts differ: a {a.Shape} has {aBatch}, b {b.Shape} has {bBatch} (a batch of one is shared).", nameof(b));
        int batch = Math.Max(aBatch, bBatch);
        if (a.Shape.Rank == 3 || b.Shape.Rank == 3) Require.Shape(MatMulName, nameof(c), c, batch, m, n);
        else Require.Shape(MatMulName, nameof(c), c, m, n);
        Require.Distinct(MatMulName, nameof(c), c, a, nameof(a));
        Require.Distinct(MatMulName, nameof(c), c, b, nameof(b));
        return new GemmArgs(a, b, c, null, batch, m, n, k, transA, transB, aBatch == 1, bBatch == 1, alpha, beta);
    }

    /// <summary>Runs an already validated GEMM; <see cref="Linear"/> uses it to fuse its bias into the epilogue.</summary>
    internal static void Launch(Device device, GemmArgs args) => Select(device, args).Launch(device, args);

    /// <summary>The variant <see cref="Launch"/> runs for these arguments on this device.</summary>
    internal static KernelVariant<GemmArgs> Select(Device device, GemmArgs args) => dispatcher.Select(device, args);

    private static (int Batch, int Rows, int Cols) Matrix(string name, Tensor t) => t.Shape.Rank switch
    {
        2 => (1, t.Shape[0], t.Shape[1]),
        3 => (t.Shape[0], t.Shape[1], t.Shape[2]),
        _ => throw new ArgumentException($"{MatMulName}: {name} has shape {t.Shape}, expected [rows, cols] or [batch, rows, cols].", name),
    };

    private static void LaunchPortable(Device device, GemmArgs args)
    {
        var layout = GemmLayout.Of(args);
        var extent = new Index1D(args.Batch * args.M * args.N);
        if (args.B.DType == DType.F16)
        {
            var bias = args.Bias?.F16View ?? ArrayView<Half>.Empty;
            device.Accelerator.LaunchAutoGrouped(GemmKernel<Half, WidenF16>, device.Stream, extent,
                args.A.F32View, args.B.F16View, bias, args.C.F32View, layout);
        }
        else
        {
            var bias = args.Bias?.F32View ?? ArrayView<float>.Empty;
            device.Accelerator.LaunchAutoGrouped(GemmKernel<float, WidenF32>, device.Stream, extent,
                args.A.F32View, args.B.F32View, bias, args.C.F32View, layout);
        }
    }

    /// <summary>
    /// Portable GEMM: one thread per element of C, looping over K in fp32. Element (row, k) of op(A) of batch
    /// <c>batch</c> is <c>a[batch·ABatch + row·ARow + k·AK]</c> (the strides encode the transpose and the sharing),
    /// likewise (k, col) of op(B). The epilogue adds <c>bias[col]</c> when present, then beta · c unless beta = 0.
    /// </summary>
    [Kernel(typeof(float), typeof(WidenF32)), Kernel(typeof(Half), typeof(WidenF16))]
    internal static void GemmKernel<TB, TWiden>(
        Index1D i, ArrayView<float> a, ArrayView<TB> b, ArrayView<TB> bias, ArrayView<float> c, GemmLayout p)
        where TB : unmanaged
        where TWiden : struct, IWiden<TB>
    {
        var widen = default(TWiden);
        int col = i % p.N, rest = i / p.N;
        int row = rest % p.M, batch = rest / p.M;
        int ai = batch * p.ABatch + row * p.ARow;
        int bi = batch * p.BBatch + col * p.BCol;
        float sum = 0f;
        for (int k = 0; k < p.K; k++)
        {
            sum += a[ai] * widen.ToFloat(b[bi]);
            ai += p.AK;
            bi += p.BK;
        }
        float result = p.Alpha * sum;
        if (p.HasBias != 0) result += widen.ToFloat(bias[col]);
        if (p.Beta != 0f) result += p.Beta * c[i];
        c[i] = result;
    }
}

/// <summary>
/// A validated GEMM: op(A) is [M, K], op(B) [K, N], C [Batch, M, N] (or [M, N] when Batch is 1); a shared operand
/// is read for every batch. <see cref="Bias"/>, when present, is [N] of B's dtype and is added before beta · C.
/// </summary>
internal readonly record struct GemmArgs(
    Tensor A, Tensor B, Tensor C, Tensor? Bias, int Batch, int M, int N, int K,
    bool TransA, bool TransB, bool ShareA, bool ShareB, float Alpha, float Beta);

/// <summary>The element strides and scalars of <see cref="Gemm.GemmKernel{TB, TWiden}"/>, derived from <see cref="GemmArgs"/>.</summary>
internal readonly record struct GemmLayout(
    int M, int N, int K, int ABatch, int ARow, int AK, int BBatch, int BK, int BCol, float Alpha, float Beta, int HasBias)
{
    public static GemmLayout Of(GemmArgs g) => new(
        g.M, g.N, g.K,
        ABatch: g.ShareA ? 0 : g.M * g.K, ARow: g.TransA ? 1 : g.K, AK: g.TransA ? g.M : 1,
        BBatch: g.ShareB ? 0 : g.K * g.N, BK: g.TransB ? 1 : g.N, BCol: g.TransB ? g.K : 1,
        g.Alpha, g.Beta, g.Bias is null ? 0 : 1);
}
