namespace IlgpuDiffusion.Kernels;

using Warp16x8 = MmaRow<MmaCell>;
using Warp32x16 = MmaRows2<MmaRow<MmaCells2<MmaCell>>>;
using Warp64x32 = MmaRows2<MmaRows2<MmaRow<MmaCells2<MmaCells2<MmaCell>>>>>;

/// <summary>
/// A block shape of <see cref="TensorCoreGemm"/>, compiled into the kernel as a generic struct argument. A group of
/// <see cref="WarpRows"/> × <see cref="WarpCols"/> warps computes a block of C; each warp owns
/// <see cref="TileRows"/> × <see cref="TileCols"/> m16n8 tiles of it, and K advances <see cref="Depth"/> (a multiple
/// of 16) at a time through shared memory. The warp tile's type is named only in <see cref="Run{TBody}"/>, which
/// hands it to the kernel's body (<see cref="ITensorCoreBody"/>).
/// </summary>
internal interface ITensorCoreShape
{
    int WarpRows { get; }

    int WarpCols { get; }

    /// <summary>m16 tiles per warp along M.</summary>
    int TileRows { get; }

    /// <summary>n8 tiles per warp along N.</summary>
    int TileCols { get; }

    int Depth { get; }

    /// <summary>Runs <paramref name="body"/> with this shape's warp tile type.</summary>
    void Run<TBody>(in TBody body) where TBody : struct, ITensorCoreBody;
}

/// <summary>
/// A kernel built on <see cref="TensorCoreGemm.Accumulate"/> (a GEMM, an implicit-GEMM convolution), holding the
/// kernel's arguments; <see cref="ITensorCoreShape.Run{TBody}"/> calls it with the shape's warp tile type.
/// </summary>
internal interface ITensorCoreBody
{
    void Run<TShape, TTile>()
        where TShape : struct, ITensorCoreShape
        where TTile : struct, IMmaTile<TTile>;
}

/// <summary>
/// The CUDA shape: a 128 × 128 block of 2 × 4 warps, each 64 × 32 (4 × 4 m16n8 tiles, 64 fp32 accumulators per
/// lane), K steps of 32, 256 threads, 20 KB of shared memory.
/// </summary>
internal readonly struct TensorCoreGemm128 : ITensorCoreShape
{
    public int WarpRows => 2;

    public int WarpCols => 4;

    public int TileRows => default(Warp64x32).Rows;

    public int TileCols => default(Warp64x32).Cols;

    public int Depth => 32;

    public void Run<TBody>(in TBody body) where TBody : struct, ITensorCoreBody => body.Run<TensorCoreGemm128, Warp64x32>();
}

/// <summary>A test shape for the CPU accelerator: a 32 × 16 block of one warp (2 × 2 tiles), K steps of 32, 32 threads.</summary>
internal readonly struct TensorCoreGemm32 : ITensorCoreShape
{
    public int WarpRows => 1;

    public int WarpCols => 1;

    public int TileRows => default(Warp32x16).Rows;

    public int TileCols => default(Warp32x16).Cols;

    public int Depth => 32;

    public void Run<TBody>(in TBody body) where TBody : struct, ITensorCoreBody => body.Run<TensorCoreGemm32, Warp32x16>();
}

/// <summary>A test shape for the CPU accelerator: a 16 × 16 block of 1 × 2 warps with one tile each, K steps of 16, 64 threads.</summary>
internal readonly struct TensorCoreGemm16 : ITensorCoreShape
{
    public int WarpRows => 1;

    public int WarpCols => 2;

    public int TileRows => default(Warp16x8).Rows;

    public int TileCols => default(Warp16x8).Cols;

    public int Depth => 16;

    public void Run<TBody>(in TBody body) where TBody : struct, ITensorCoreBody => body.Run<TensorCoreGemm16, Warp16x8>();
}
