using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The CUDA-tuned tier of <see cref="Attention"/>: FlashAttention-2 in fp32 on CUDA cores, explicitly grouped kernels
/// that stage blocks of Q, K, V in shared memory, keep their accumulators in registers and never store an Lq×Lk
/// matrix (docs/FLASH_ATTENTION.md). Same layout, causal mask, scale and logsumexp as the portable kernels.
/// <list type="bullet">
/// <item>Forward: a group per (n, h, block of Br queries) loads Q_i once, then for each block of Bc keys computes
/// S = scale·Q_i K_jᵀ, updates each row's running max m and sum l (online softmax; the accumulator is rescaled by
/// exp(m_old − m_new)), and adds P V_j. It writes O_i = acc / l and lse_i = m + log l. Under the causal mask it stops
/// after the block holding its last query.</item>
/// <item>Backward dQ: a group per query block computes D_i = dO_i·O_i (saved for the next kernel), then for each key
/// block recomputes P = exp(S − lse) and dP = dO_i V_jᵀ and adds dS K_j with dS = P ⊙ (dP − D_i).</item>
/// <item>Backward dK, dV: a group per (n, h, block of Bc keys) holds K_j, V_j and loops over the query blocks (under
/// the causal mask from the block holding key j's first query), adding Pᵀ dO_i to dV_j and dSᵀ Q_i to dK_j.</item>
/// </list>
/// Every gradient element is summed by one thread in a fixed order: no atomics, bit-reproducible. A thread owns
/// up to 4 rows of its group's block and, for a team of adjacent lanes, every team-th streamed row and channel; its
/// scores and accumulators live in registers (<see cref="FlashRows"/>). The tile (<see cref="FlashTile"/>) is
/// compiled in, so the tests run these very kernels on the CPU accelerator with tiny tiles.
/// </summary>
internal static partial class FlashAttention
{
    /// <summary>
    /// True when the tuned kernels handle these arguments on <paramref name="device"/>: CUDA, fp32, Dv = D, a head dim
    /// with CUDA tiles (<see cref="FlashTiles"/>) that fit the device, and non-empty sequences.
    /// </summary>
    public static bool Supports(Device device, Tensor q, AttentionDims d) =>
        !device.IsCpu && q.DType == DType.F32 && d.ValueDim == d.HeadDim && d.QueryLength > 0 && d.KeyLength > 0
        && FlashTiles.ForHeadDim(d.HeadDim) is { } tiles
        && tiles.Forward.Problem(FlashPass.Forward, device) is null
        && tiles.BackwardQuery.Problem(FlashPass.BackwardQuery, device) is null
        && tiles.BackwardKeyValue.Problem(FlashPass.BackwardKeyValue, device) is null;

    /// <summary>Runs the forward kernel with <paramref name="tile"/>.</summary>
    public static void Forward(Device device, AttentionForwardArgs a, FlashTile tile)
    {
        var d = a.Dims;
        var config = Configure(device, tile, FlashPass.Forward, d, d.QueryLength);
        device.Accelerator.Launch(ForwardKernel, device.Stream, config,
            a.Q.F32View, a.K.F32View, a.V.F32View, a.Output.F32View, a.LogSumExp.F32View, d,
            SpecializedValue.New(tile.HeadDim), SpecializedValue.New(tile.OwnedRows), SpecializedValue.New(tile.StreamedRows),
            SpecializedValue.New(tile.RowsPerThread), SpecializedValue.New(tile.TeamSize));
    }

    /// <summary>Runs the dQ kernel with <paramref name="query"/>, then the dK, dV kernel with <paramref name="keyValue"/>.</summary>
    public static void Backward(Device device, AttentionBackwardArgs a, FlashTile query, FlashTile keyValue)
    {
        var d = a.Dims;
        var queryConfig = Configure(device, query, FlashPass.BackwardQuery, d, d.QueryLength);
        var keyValueConfig = Configure(device, keyValue, FlashPass.BackwardKeyValue, d, d.KeyLength);
        using var delta = Tensor.Empty(device, DType.F32, d.Batch, d.Heads, d.QueryLength);
        device.Accelerator.Launch(BackwardQueryKernel, device.Stream, queryConfig,
            a.Q.F32View, a.K.F32View, a.V.F32View, a.Output.F32View, a.LogSumExp.F32View, a.OutputGrad.F32View,
            delta.F32View, a.QGrad.F32View, d,
            SpecializedValue.New(query.HeadDim), SpecializedValue.New(query.OwnedRows), SpecializedValue.New(query.StreamedRows),
            SpecializedValue.New(query.RowsPerThread), SpecializedValue.New(query.TeamSize));
        device.Accelerator.Launch(BackwardKeyValueKernel, device.Stream, keyValueConfig,
            a.Q.F32View, a.K.F32View, a.V.F32View, a.LogSumExp.F32View, a.OutputGrad.F32View, delta.F32View,
            a.KGrad.F32View, a.VGrad.F32View, d,
            SpecializedValue.New(keyValue.HeadDim), SpecializedValue.New(keyValue.OwnedRows),
            SpecializedValue.New(keyValue.StreamedRows), SpecializedValue.New(keyValue.RowsPerThread),
            SpecializedValue.New(keyValue.TeamSize));
        // The caching allocator may hand delta's block to the next op on this stream, which runs after these kernels.
    }

    /// <summary>One group of <paramref name="tile"/>'s threads per (n, h, block of owned rows), after checking the tile fits.</summary>
    private static KernelConfig Configure(Device device, FlashTile tile, FlashPass pass, AttentionDims d, int ownedLength)
    {
        if (tile.HeadDim != d.HeadDim || d.ValueDim != d.HeadDim)
            throw new ArgumentException($"{pass} tile has head dim {tile.HeadDim}; the attention has D={d.HeadDim}, Dv={d.ValueDim}.");
        if (tile.Problem(pass, device) is { } problem) throw new ArgumentException($"{pass} tile {tile}: {problem}.");
        int blocks = (ownedLength + tile.OwnedRows - 1) / tile.OwnedRows;
        return new KernelConfig(new Index1D(d.Batch * d.Heads * blocks), new Index1D(tile.Threads));
    }

    /// <summary>This group's (n, h) and the first of its owned rows, for sequences of <paramref name="length"/> rows.</summary>
    private static (int N, int H, int First) GroupBlock(AttentionDims d, int length, int ownedRows)
    {
        int blocks = (length + ownedRows - 1) / ownedRows;
        int nh = Grid.IdxX / blocks;
        return (nh / d.Heads, nh % d.Heads, Grid.IdxX % blocks * ownedRows);
    }
}
