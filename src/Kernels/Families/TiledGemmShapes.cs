using ILGPU;

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
/// TM and TN are the sizes of the register tile's types, which only <see cref="Run{TB, TWiden}"/> can name (C# has
/// no associated types), so it forwards the kernel's arguments to <see cref="TiledGemm.Body"/> with them.
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

    void Run<TB, TWiden>(ArrayView<float> a, ArrayView<TB> b, ArrayView<TB> bias, ArrayView<float> c, GemmLayout p)
        where TB : unmanaged
        where TWiden : struct, IWiden<TB>;
}

/// <summary>The CUDA shape: a 128 × 128 block, BK = 8, 8 × 8 outputs per thread, 256 threads, 8.25 KB of shared memory.</summary>
internal readonly struct TiledGemm128 : ITiledGemmShape
{
    public int ThreadRows => 16;

    public int ThreadCols => 16;

    public int RowsPerThread => default(Tile8x8).Rows;

    public int ColsPerThread => default(Regs8x).Count;

    public int Depth => 8;

    public void Run<TB, TWiden>(ArrayView<float> a, ArrayView<TB> b, ArrayView<TB> bias, ArrayView<float> c, GemmLayout p)
        where TB : unmanaged
        where TWiden : struct, IWiden<TB> =>
        TiledGemm.Body<TB, TWiden, TiledGemm128, Tile8x8, Regs8x>(a, b, bias, c, p);
}

/// <summary>A test shape for the CPU accelerator: an 8 × 8 block, BK = 4, 2 × 2 outputs per thread, 16 threads.</summary>
internal readonly struct TiledGemm8 : ITiledGemmShape
{
    public int ThreadRows => 4;

    public int ThreadCols => 4;

    public int RowsPerThread => default(Tile2x2).Rows;

    public int ColsPerThread => default(Regs2x).Count;

    public int Depth => 4;

    public void Run<TB, TWiden>(ArrayView<float> a, ArrayView<TB> b, ArrayView<TB> bias, ArrayView<float> c, GemmLayout p)
        where TB : unmanaged
        where TWiden : struct, IWiden<TB> =>
        TiledGemm.Body<TB, TWiden, TiledGemm8, Tile2x2, Regs2x>(a, b, bias, c, p);
}
