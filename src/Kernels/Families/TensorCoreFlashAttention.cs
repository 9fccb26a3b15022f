using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The tensor-core flash-attention forward (issue 7): FlashAttention-2's forward with Q·Kᵀ and P·V on
/// <see cref="TensorCore"/>'s <c>mma.sync.m16n8k16</c>, fp16 operands and fp32 accumulation. A group of W warps owns
/// 16·W queries of one (n, h); Q is staged once in shared memory as packed fp16 pairs, then each block of keys is
/// staged as K (rows of pairs) and Vᵀ (channels of key pairs). Each warp computes its 16 × Bc scores in registers,
/// masks them (keys past Lk, or past the query under the causal mask) to −∞, scales them in fp32, updates each row's
/// running max and sum (online softmax: O and the sum are rescaled by exp(m_old − m_new)), and adds P·V with P
/// rounded to fp16 straight from its accumulator registers (two m16n8 accumulator tiles are one k16 A fragment).
/// It writes O / l and the logsumexp m + log l, which the fp32 backward uses as it does the other forwards'.
/// The head dim is padded to a multiple of 16 inside the kernel (zeros in shared memory, padded columns never
/// stored). No Lq×Lk matrix is stored.
/// </summary>
/// <remarks>
/// The operands are rounded to fp16 (Q, K, V, and P after the fp32 softmax, as FlashAttention does), so this path
/// is held to the fp16 bound (5e-3), never to the f32 parity bound. Inline PTX cannot run on the CPU accelerator
/// (tests run the same code through the fragment-layout fallback), so until a GPU run has validated it the variant
/// is off by default (<see cref="KernelPolicy.TensorCores"/>) and, when enabled, checks itself on first use on each
/// device (<see cref="AttentionSelfCheck"/>).
/// </remarks>
internal static class TensorCoreFlashAttention
{
    /// <summary>
    /// The dispatcher's variant (unguarded; the dispatcher lists it through <see cref="AttentionSelfCheck.Guard"/>):
    /// CUDA, tensor cores enabled, and a head dim one of the CUDA shapes serves.
    /// </summary>
    public static readonly KernelVariant<AttentionForwardArgs> Variant = new(
        "attention-forward-tensor-core", KernelTier.CudaTuned,
        (device, a) => device.Kind == DeviceKind.Cuda && KernelPolicy.TensorCores
            && LauncherFor(a.Dims.HeadDim) is { } launch && Problem(launch.Block, device, a.Dims) is null,
        Launch);

    /// <summary>Runs the CUDA shape for the head dim (D = 40, 80, 160, or any D that pads to the same multiple of 16).</summary>
    /// <exception cref="ArgumentException">No CUDA shape serves the head dim, or the problem does not fit the device.</exception>
    public static void Launch(Device device, AttentionForwardArgs a)
    {
        var launcher = LauncherFor(a.Dims.HeadDim)
            ?? throw new ArgumentException($"tensor-core attention: no CUDA shape for head dim {a.Dims.HeadDim} (it serves 33–48, 65–80, 145–160).");
        launcher.Launch(device, a);
    }

    /// <summary>The geometry of <typeparamref name="TShape"/>.</summary>
    public static TensorCoreFlashBlock Block<TShape>() where TShape : struct, ITensorCoreFlashShape
    {
        var shape = default(TShape);
        return new TensorCoreFlashBlock(typeof(TShape).Name, shape.Warps, shape.KeyBlock, shape.PaddedHeadDim);
    }

    /// <summary>Runs <typeparamref name="TShape"/> on any device with 32-lane warps (tests call it on the CPU accelerator).</summary>
    /// <exception cref="ArgumentException">The problem does not fit the shape or the device; nothing is launched.</exception>
    public static void Launch<TShape>(Device device, AttentionForwardArgs a) where TShape : struct, ITensorCoreFlashShape
    {
        var block = Block<TShape>();
        if (Problem(block, device, a.Dims) is { } problem) throw new ArgumentException($"{block.Name}: {problem}.");
        var d = a.Dims;
        var config = new KernelConfig(
            new Index3D(d.Batch * d.Heads * block.QueryBlocks(d.QueryLength), 1, 1), new Index3D(block.Threads, 1, 1),
            new SharedMemoryConfig(block.SharedWords, sizeof(uint)));
        Loaded<TShape>.Kernel.On(device.Accelerator)(device.Stream, config,
            a.Q.F32View, a.K.F32View, a.V.F32View, a.Output.F32View, a.LogSumExp.F32View, d);
    }

    /// <summary>Why <paramref name="block"/> cannot run this attention on <paramref name="device"/>, or null when it can.</summary>
    public static string? Problem(TensorCoreFlashBlock block, Device device, AttentionDims d)
    {
        if (d.HeadDim <= block.PaddedHeadDim - 16 || d.HeadDim > block.PaddedHeadDim)
            return $"head dim {d.HeadDim} is outside ({block.PaddedHeadDim - 16}, {block.PaddedHeadDim}], the dims it pads to {block.PaddedHeadDim}";
        if (d.ValueDim != d.HeadDim) return $"value head dim {d.ValueDim} differs from head dim {d.HeadDim}";
        if (d.QueryLength <= 0 || d.KeyLength <= 0) return $"{d.QueryLength} queries and {d.KeyLength} keys; both must be positive";
        var accelerator = device.Accelerator;
        if (accelerator.WarpSize != 32) return $"{device} has {accelerator.WarpSize}-lane warps; mma.sync needs 32";
        if (block.Threads > accelerator.MaxNumThreadsPerGroup)
            return $"{block.Threads} threads exceed {device}'s {accelerator.MaxNumThreadsPerGroup} per group";
        long groups = (long)d.Batch * d.Heads * block.QueryBlocks(d.QueryLength);
        if (groups > accelerator.MaxGridSize.X) return $"{groups} groups exceed {device}'s grid of {accelerator.MaxGridSize.X}";
        return null;
    }

    /// <summary>The CUDA shape serving <paramref name="headDim"/>, or null.</summary>
    private static ShapeLauncher? LauncherFor(int headDim) =>
        Array.Find(CudaShapes, s => headDim > s.Block.PaddedHeadDim - 16 && headDim <= s.Block.PaddedHeadDim);

    private static readonly ShapeLauncher[] CudaShapes =
    [
        new(Block<TensorCoreFlash40>(), Launch<TensorCoreFlash40>),
        new(Block<TensorCoreFlash80>(), Launch<TensorCoreFlash80>),
        new(Block<TensorCoreFlash160>(), Launch<TensorCoreFlash160>),
    ];

    private sealed record ShapeLauncher(TensorCoreFlashBlock Block, Action<Device, AttentionForwardArgs> Launch);

    /// <summary>The entry point: <typeparamref name="TShape"/> names its register tiles and calls <see cref="Body"/>.</summary>
    [Kernel(typeof(TensorCoreFlash40), ExplicitlyGrouped = true)]
    [Kernel(typeof(TensorCoreFlash80), ExplicitlyGrouped = true)]
    [Kernel(typeof(TensorCoreFlash160), ExplicitlyGrouped = true)]
    [Kernel(typeof(TensorCoreFlashTest48), ExplicitlyGrouped = true)]
    [Kernel(typeof(TensorCoreFlashTest80), ExplicitlyGrouped = true)]
    internal static void ForwardKernel<TShape>(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v,
        ArrayView<float> output, ArrayView<float> logSumExp, AttentionDims d)
        where TShape : struct, ITensorCoreFlashShape =>
        default(TShape).Run(q, k, v, output, logSumExp, d);

    /// <summary>
    /// One group's query block (see <see cref="TensorCoreFlashAttention"/>). Shared memory, in 32-bit words of packed
    /// fp16 pairs: Q [Br][Dp / 2 + pad], K [Bc][Dp / 2 + pad] (both k-contiguous, the layout of the A and B fragments
    /// of Q·Kᵀ) and Vᵀ [Dp][Bc / 2 + pad] (key-contiguous, the B fragments of P·V).
    /// </summary>
    internal static void Body<TShape, TScores, TOutput>(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v,
        ArrayView<float> output, ArrayView<float> logSumExp, AttentionDims d)
        where TShape : struct, ITensorCoreFlashShape
        where TScores : struct, IFlashMmaRow<TScores>
        where TOutput : struct, IFlashMmaRow<TOutput>
    {
        int dim = d.HeadDim, padded = default(TOutput).Columns, keyBlock = default(TScores).Columns;
        int queryBlock = 16 * default(TShape).Warps, pairs = padded / 2, stride = pairs + TensorCoreFlashBlock.Padding;
        int keyPairs = keyBlock / 2, valueStride = keyPairs + TensorCoreFlashBlock.Padding;
        var shared = SharedMemory.GetDynamic<uint>();
        var queries = shared.SubView(0, queryBlock * stride);
        var keys = shared.SubView(queryBlock * stride, keyBlock * stride);
        var values = shared.SubView((queryBlock + keyBlock) * stride, padded * valueStride);

        int blocks = (d.QueryLength + queryBlock - 1) / queryBlock, nh = Grid.IdxX / blocks;
        int n = nh / d.Heads, h = nh % d.Heads, first = Grid.IdxX % blocks * queryBlock;
        int thread = Group.IdxX, threads = Group.DimX, tokenStride = d.Heads * dim;
        int g = Warp.LaneIdx >> 2, t = Warp.LaneIdx & 3, strip = Warp.WarpIdx * 16;
        LoadPairs(q, d.QueryRow(n, h, first), tokenStride, d.QueryLength - first, dim, queries, queryBlock, pairs, stride, thread, threads);

        bool causal = d.Causal == 1;
        int query0 = first + strip + g, query8 = query0 + 8;
        int high0 = causal ? Math.Min(d.KeyLength, query0 + 1) : d.KeyLength;
        int high8 = causal ? Math.Min(d.KeyLength, query8 + 1) : d.KeyLength;
        int keyEnd = causal ? Math.Min(d.KeyLength, first + queryBlock) : d.KeyLength;
        int queryFragment = (strip + g) * stride + t;
        // Every row attends to key 0, in the first block, so the running max is finite from there on and the first
        // rescale, exp(−∞ − m), is 0.
        float max0 = float.NegativeInfinity, max8 = float.NegativeInfinity, sum0 = 0f, sum8 = 0f;
        TOutput acc = default;
        for (int k0 = 0; k0 < keyEnd; k0 += keyBlock)
        {
            int validKeys = d.KeyLength - k0;
            Group.Barrier(); // every warp is done with the previous K and Vᵀ
            LoadPairs(k, d.KeyRow(n, h, k0), tokenStride, validKeys, dim, keys, keyBlock, pairs, stride, thread, threads);
            LoadTransposed(v, d.ValueRow(n, h, k0), tokenStride, validKeys, dim, values, keyPairs, padded, valueStride, thread, threads);
            Group.Barrier();

            TScores scores = default;
            for (int word = 0; word < pairs; word += 8)
            {
                int at = queryFragment + word;
                scores.Mma(queries[at], queries[at + 8 * stride], queries[at + 4], queries[at + 8 * stride + 4],
                    keys, g * stride + word + t, stride);
            }
            scores.MaskScale(d.Scale, k0 + 2 * t, high0, high8);
            float blockMax0 = float.NegativeInfinity, blockMax8 = float.NegativeInfinity;
            scores.RowMax(ref blockMax0, ref blockMax8);
            float newMax0 = MathF.Max(max0, FlashTileMath.TeamMax(blockMax0, 4));
            float newMax8 = MathF.Max(max8, FlashTileMath.TeamMax(blockMax8, 4));
            float rescale0 = MathF.Exp(max0 - newMax0), rescale8 = MathF.Exp(max8 - newMax8);
            max0 = newMax0;
            max8 = newMax8;
            // Each lane sums its own columns; the quad's partial sums are added once at the end.
            sum0 *= rescale0;
            sum8 *= rescale8;
            scores.Exp(max0, max8, ref sum0, ref sum8);
            acc.Scale(rescale0, rescale8);
            scores.MultiplyInto(ref acc, values, g * valueStride + t, valueStride);
        }

        sum0 = FlashTileMath.TeamSum(sum0, 4);
        sum8 = FlashTileMath.TeamSum(sum8, 4);
        bool valid0 = query0 < d.QueryLength, valid8 = query8 < d.QueryLength;
        acc.Store(output, valid0 ? d.OutputRow(n, h, query0) : -1, valid8 ? d.OutputRow(n, h, query8) : -1,
            2 * t, dim, 1f / sum0, 1f / sum8);
        if (t == 0 && valid0) logSumExp[d.Statistic(n, h, query0)] = max0 + MathF.Log(sum0);
        if (t == 0 && valid8) logSumExp[d.Statistic(n, h, query8)] = max8 + MathF.Log(sum8);
    }

    /// <summary>
    /// tile[r·stride + p] = the fp16 pair (source[at + 2p], source[at + 2p + 1]) with at = start + r·rowStride, for
    /// r &lt; rows and p &lt; pairs; zero for rows r ≥ valid and channels ≥ dim. Consecutive threads take consecutive pairs.
    /// </summary>
    private static void LoadPairs(ArrayView<float> source, int start, int rowStride, int valid, int dim,
        ArrayView<uint> tile, int rows, int pairs, int stride, int thread, int threads)
    {
        for (int e = thread; e < rows * pairs; e += threads)
        {
            int r = e / pairs, p = e - r * pairs, c = 2 * p, at = start + r * rowStride + c;
            float low = r < valid && c < dim ? source[at] : 0f;
            float high = r < valid && c + 1 < dim ? source[at + 1] : 0f;
            tile[r * stride + p] = TensorCore.Pack(TensorCore.ToHalf(low), TensorCore.ToHalf(high));
        }
    }

    /// <summary>
    /// tile[c·stride + p] = the fp16 pair (rows 2p and 2p + 1 of channel c) of the rows at start + r·rowStride, for
    /// c &lt; columns and p &lt; pairs; zero for rows ≥ valid and channels ≥ dim. Consecutive threads take consecutive
    /// channels, so the global loads coalesce.
    /// </summary>
    private static void LoadTransposed(ArrayView<float> source, int start, int rowStride, int valid, int dim,
        ArrayView<uint> tile, int pairs, int columns, int stride, int thread, int threads)
    {
        for (int e = thread; e < pairs * columns; e += threads)
        {
            int p = e / columns, c = e - p * columns, r = 2 * p, at = start + r * rowStride + c;
            float low = c < dim && r < valid ? source[at] : 0f;
            float high = c < dim && r + 1 < valid ? source[at + rowStride] : 0f;
            tile[c * stride + p] = TensorCore.Pack(TensorCore.ToHalf(low), TensorCore.ToHalf(high));
        }
    }

    /// <summary>The kernel of one shape, loaded once per accelerator.</summary>
    private static class Loaded<TShape> where TShape : struct, ITensorCoreFlashShape
    {
        public static readonly GroupedKernel<Action<AcceleratorStream, KernelConfig,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionDims>> Kernel =
            new(accelerator => accelerator.LoadKernel<
                    ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionDims>(
                    ForwardKernel<TShape>),
                Block<TShape>().SharedBytes);
    }
}

/// <summary>
/// The launch geometry of a <see cref="ITensorCoreFlashShape"/>: <see cref="Warps"/> warps of 32 lanes own 16 queries
/// each, keys stream in blocks of <see cref="KeyBlock"/>, the head dim is padded to <see cref="PaddedHeadDim"/>.
/// </summary>
internal readonly record struct TensorCoreFlashBlock(string Name, int Warps, int KeyBlock, int PaddedHeadDim)
{
    /// <summary>
    /// Words of padding per shared-memory row: with Dp / 2 and Bc / 2 multiples of 8, a row stride of 4 (mod 8) words
    /// puts the 8 rows × 4 words of a warp's fragment load in 32 distinct banks.
    /// </summary>
    public const int Padding = 4;

    /// <summary>Threads per group.</summary>
    public int Threads => 32 * Warps;

    /// <summary>Queries per group (Br).</summary>
    public int QueryBlock => 16 * Warps;

    /// <summary>Dynamic shared memory in 32-bit words: Br + Bc rows of Q and K (Dp / 2 + pad words), Dp rows of Vᵀ (Bc / 2 + pad).</summary>
    public int SharedWords => (QueryBlock + KeyBlock) * (PaddedHeadDim / 2 + Padding) + PaddedHeadDim * (KeyBlock / 2 + Padding);

    /// <summary>Dynamic shared memory per group, in bytes.</summary>
    public int SharedBytes => SharedWords * sizeof(uint);

    /// <summary>Groups per (n, h) for <paramref name="queryLength"/> queries.</summary>
    public int QueryBlocks(int queryLength) => (queryLength + QueryBlock - 1) / QueryBlock;
}
