namespace IlgpuDiffusion.Kernels;

/// <summary>The three flash-attention kernels, each with its own tile (see <see cref="FlashTile"/>).</summary>
internal enum FlashPass
{
    /// <summary>Forward: a group owns Br queries and streams the keys and values in blocks of Bc.</summary>
    Forward,

    /// <summary>Backward dQ (and D_i = dO_i·O_i): a group owns Br queries and streams keys and values in blocks of Bc.</summary>
    BackwardQuery,

    /// <summary>Backward dK, dV: a group owns Bc keys and streams queries and output gradients in blocks of Br.</summary>
    BackwardKeyValue,
}

/// <summary>
/// The block and thread shape of one flash-attention kernel, compiled into it as constants
/// (<c>SpecializedValue&lt;int&gt;</c>, in this order). A group owns <see cref="OwnedRows"/> rows of one sequence and
/// streams the other through shared memory in blocks of <see cref="StreamedRows"/>. Its threads form teams of
/// <see cref="TeamSize"/> adjacent lanes; a team shares <see cref="RowsPerThread"/> owned rows, and each of its
/// threads holds those rows' scores for every <see cref="TeamSize"/>-th streamed row and their accumulators for every
/// <see cref="TeamSize"/>-th channel, in registers. Shared tiles of width <see cref="HeadDim"/> get one float of
/// padding per row so that the lanes of a team read distinct banks.
/// </summary>
internal readonly record struct FlashTile(int HeadDim, int OwnedRows, int StreamedRows, int RowsPerThread, int TeamSize)
{
    /// <summary>Threads per group: one team per <see cref="RowsPerThread"/> owned rows.</summary>
    public int Threads => OwnedRows / RowsPerThread * TeamSize;

    /// <summary>Static shared memory of <paramref name="pass"/>'s kernel with this tile, in bytes.</summary>
    public int SharedBytes(FlashPass pass)
    {
        int width = HeadDim + 1, products = OwnedRows * (StreamedRows + 1);
        int floats = pass switch
        {
            // Q, one K-or-V block, P.
            FlashPass.Forward => (OwnedRows + StreamedRows) * width + products,
            // Q, dO, K, V, dS, lse and D per query.
            FlashPass.BackwardQuery => 2 * (OwnedRows + StreamedRows) * width + products + 2 * OwnedRows,
            // K, V, Q, dO, Pᵀ, dSᵀ, lse and D per query.
            _ => 2 * (OwnedRows + StreamedRows) * width + 2 * products + 2 * StreamedRows,
        };
        return floats * sizeof(float);
    }

    /// <summary>Why this tile cannot run <paramref name="pass"/> on <paramref name="device"/>, or null when it can.</summary>
    public string? Problem(FlashPass pass, Device device) =>
        Problem(pass, device.Accelerator.WarpSize, device.Accelerator.MaxNumThreadsPerGroup,
            device.Accelerator.MaxSharedMemoryPerGroup, wholeWarps: !device.IsCpu);

    /// <summary>
    /// Why this tile cannot run <paramref name="pass"/> on a device with these limits, or null when it can: the thread
    /// shape must divide the blocks and the head dim, a team must tile a warp, a thread's registers must fit
    /// <see cref="FlashRow"/>, and the group and its shared memory must fit the device. With
    /// <paramref name="wholeWarps"/> (CUDA) a group must be whole warps, since the team reductions shuffle with a full mask.
    /// </summary>
    public string? Problem(FlashPass pass, int warpSize, int maxThreadsPerGroup, long maxSharedBytes, bool wholeWarps)
    {
        if (HeadDim <= 0 || OwnedRows <= 0 || StreamedRows <= 0 || RowsPerThread <= 0 || TeamSize <= 0)
            return "a size is not positive";
        if (OwnedRows % RowsPerThread != 0) return $"{OwnedRows} owned rows do not split into {RowsPerThread} per thread";
        if (StreamedRows % TeamSize != 0 || HeadDim % TeamSize != 0)
            return $"a team of {TeamSize} does not divide {StreamedRows} streamed rows and head dim {HeadDim}";
        if ((TeamSize & (TeamSize - 1)) != 0 || warpSize % TeamSize != 0) return $"a team of {TeamSize} does not tile a warp of {warpSize}";
        if (RowsPerThread > FlashRow.RowCapacity || StreamedRows / TeamSize > FlashRow.ScoreCapacity
            || HeadDim / TeamSize > FlashRow.ChannelCapacity)
            return $"a thread's {RowsPerThread} rows × ({StreamedRows / TeamSize} scores, {HeadDim / TeamSize} channels) exceed " +
                   $"{FlashRow.RowCapacity} × ({FlashRow.ScoreCapacity}, {FlashRow.ChannelCapacity})";
        if (Threads > maxThreadsPerGroup) return $"{Threads} threads exceed the device's {maxThreadsPerGroup} per group";
        if (wholeWarps && Threads % warpSize != 0) return $"{Threads} threads are not whole warps of {warpSize}";
        if (SharedBytes(pass) > maxSharedBytes)
            return $"{SharedBytes(pass)} bytes of shared memory exceed the device's {maxSharedBytes}";
        return null;
    }

    public override string ToString() =>
        $"D={HeadDim} owned={OwnedRows} streamed={StreamedRows} rows/thread={RowsPerThread} team={TeamSize}";
}

/// <summary>The CUDA tiles of the three flash-attention kernels for one head dim.</summary>
internal sealed record FlashTileSet(FlashTile Forward, FlashTile BackwardQuery, FlashTile BackwardKeyValue);

/// <summary>
/// The tiles the dispatcher launches on CUDA, one set per Stable Diffusion head dim, each a registered
/// specialization of its kernel. All have 128 threads per group and stay under the 48 KB of static shared memory
/// ILGPU can give a group (docs/FLASH_ATTENTION.md has the budget); the accumulators stay in registers.
/// </summary>
internal static class FlashTiles
{
    private static readonly Dictionary<int, FlashTileSet> cuda = new()
    {
        [40] = new(new(40, 64, 64, 4, 8), new(40, 64, 32, 4, 8), new(40, 64, 32, 4, 8)),
        [80] = new(new(80, 64, 32, 4, 8), new(80, 32, 32, 4, 16), new(80, 32, 16, 4, 16)),
        [160] = new(new(160, 32, 32, 4, 16), new(160, 16, 16, 2, 16), new(160, 16, 16, 2, 16)),
    };

    /// <summary>The head dims with CUDA tiles.</summary>
    public static IReadOnlyCollection<int> HeadDims => cuda.Keys;

    /// <summary>The CUDA tiles for <paramref name="headDim"/>, or null when it has none.</summary>
    public static FlashTileSet? ForHeadDim(int headDim) => cuda.GetValueOrDefault(headDim);
}
