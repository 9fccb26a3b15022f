namespace IlgpuDiffusion.Kernels;

using Regs2x = Regs2<Regs1>;
using Regs8x = Regs2<Regs2<Regs2<Regs1>>>;
using Tile2x2 = Rows2<Rows1<Regs2<Regs1>>, Regs2<Regs1>>;
using Tile8x8 = Rows2<Rows2<Rows2<Rows1<Regs2<Regs2<Regs2<Regs1>>>>, Regs2<Regs2<Regs2<Regs1>>>>,
    Regs2<Regs2<Regs2<Regs1>>>>, Regs2<Regs2<Regs2<Regs1>>>>;

/// <summary>
/// A block shape of <see cref="TiledGemm"/>, compiled into the kernel as a generic struct argument. A group of
/// <see cref="ThreadRows"/> × <see cref="ThreadCols"/> threads computes a block of (ThreadRows · TM) × (ThreadCols · TN)
/// outputs, each thread a TM × TN register tile, and walks K <see cref="Depth"/> at a time through shared memory.
/// TM and TN are the sizes of the register tile's types, which only <see cref="Run{TBody}"/> can name (C# has
/// no associated types), so it hands them to the kernel's body (<see cref="ITiledBody"/>).
/// </summary>
internal interface ITiledGemmShape
{
    int ThreadRows { get; }

    int ThreadCols { get; }

    /// <summary>TM: outputs per thread along M.</summary>
    int RowsPerThread { get; }

    /// <summary>TN: outputs per thread along N.</summary>
    int ColsPerThread { get; }

    /// <summary>BK: the K extent of a shared-memory tile.</summary>
    int Depth { get; }

    /// <summary>Runs <paramref name="body"/> with this shape's register tile types.</summary>
    void Run<TBody>(in TBody body) where TBody : struct, ITiledBody;
}

/// <summary>
/// A kernel built on <see cref="TiledGemm.Accumulate"/> (a GEMM, an implicit-GEMM convolution, a GEMM with a GEGLU
/// epilogue), holding the kernel's arguments; <see cref="ITiledGemmShape.Run{TBody}"/> calls it with the shape's types.
/// </summary>
internal interface ITiledBody
{
    void Run<TShape, TTile, TRow>()
        where TShape : struct, ITiledGemmShape
        where TTile : struct, IRegisterTile<TTile, TRow>
        where TRow : struct, IRegisters<TRow>;
}

/// <summary>The CUDA shape: a 128 × 128 block, BK = 8, 8 × 8 outputs per thread, 256 threads, 8.25 KB of shared memory.</summary>
internal readonly struct TiledGemm128 : ITiledGemmShape
{
    public int ThreadRows => 16;

    public int ThreadCols => 16;

    public int RowsPerThread => default(Tile8x8).Rows;

    public int ColsPerThread => default(Regs8x).Count;

    public int Depth => 8;

    public void Run<TBody>(in TBody body) where TBody : struct, ITiledBody => body.Run<TiledGemm128, Tile8x8, Regs8x>();
}

/// <summary>A test shape for the CPU accelerator: an 8 × 8 block, BK = 4, 2 × 2 outputs per thread, 16 threads.</summary>
internal readonly struct TiledGemm8 : ITiledGemmShape
{
    public int ThreadRows => 4;

    public int ThreadCols => 4;

    public int RowsPerThread => default(Tile2x2).Rows;

    public int ColsPerThread => default(Regs2x).Count;

    public int Depth => 4;

    public void Run<TBody>(in TBody body) where TBody : struct, ITiledBody => body.Run<TiledGemm8, Tile2x2, Regs2x>();
}
