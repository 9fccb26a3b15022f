using ILGPU;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// A warp's fp32 accumulators for a row of m16n8 tiles of C (four per lane each, in the layout of
/// <see cref="TensorCore"/>), nested like <see cref="IRegisters{TSelf}"/> so that they stay in registers. The
/// operand tiles live in shared memory as rows of packed fp16 pairs (<c>.f16x2</c> words): A as [m][k / 2], B as
/// [n][k / 2], <c>stride</c> words per row. A <c>default</c> value is all zeros.
/// </summary>
internal interface IMmaCells<TSelf> where TSelf : struct, IMmaCells<TSelf>
{
    /// <summary>How many m16n8 tiles, side by side along N.</summary>
    int Count { get; }

    /// <summary>
    /// Tile j += A · B_j for one k16 step: A's fragment is given; this lane's B_j fragment words are
    /// <c>b[offset + j·8·stride]</c> and the word 4 after it (k + 8).
    /// </summary>
    void Mma(uint a0, uint a1, uint a2, uint a3, ArrayView<uint> b, int offset, int stride);

    /// <summary>Hands this lane's elements to the epilogue; (row, col) is its c0 in tile 0, and tile j is 8·j columns right.</summary>
    void Store<TEpilogue>(in TEpilogue epilogue, int row, int col) where TEpilogue : struct, IGemmEpilogue;

    /// <summary>Hands this lane's elements, each with the same element of <paramref name="second"/>, to the epilogue as in <see cref="Store"/>.</summary>
    void StorePairs<TEpilogue>(in TEpilogue epilogue, in TSelf second, int row, int col) where TEpilogue : struct, IGemmPairEpilogue;

    /// <summary>
    /// Hands the elements of the first half of the tiles, each paired with the same element of the second half, to
    /// the epilogue as in <see cref="Store"/>: for kernels whose columns j and j + 4·Count belong together. A single
    /// tile has no halves; kernels that pair columns require an even count on the host.
    /// </summary>
    void StoreHalves<TEpilogue>(in TEpilogue epilogue, int row, int col) where TEpilogue : struct, IGemmPairEpilogue;
}

/// <summary>One m16n8 accumulator tile: c0 … c3 of <see cref="TensorCore"/>.</summary>
internal struct MmaCell : IMmaCells<MmaCell>
{
    public float C0, C1, C2, C3;

    public readonly int Count => 1;

    public void Mma(uint a0, uint a1, uint a2, uint a3, ArrayView<uint> b, int offset, int stride) =>
        TensorCore.MmaM16N8K16(a0, a1, a2, a3, b[offset], b[offset + 4], ref C0, ref C1, ref C2, ref C3);

    public readonly void Store<TEpilogue>(in TEpilogue epilogue, int row, int col) where TEpilogue : struct, IGemmEpilogue
    {
        epilogue.Write(row, col, C0);
        epilogue.Write(row, col + 1, C1);
        epilogue.Write(row + 8, col, C2);
        epilogue.Write(row + 8, col + 1, C3);
    }

    public readonly void StorePairs<TEpilogue>(in TEpilogue epilogue, in MmaCell second, int row, int col)
        where TEpilogue : struct, IGemmPairEpilogue
    {
        epilogue.Write(row, col, C0, second.C0);
        epilogue.Write(row, col + 1, C1, second.C1);
        epilogue.Write(row + 8, col, C2, second.C2);
        epilogue.Write(row + 8, col + 1, C3, second.C3);
    }

    /// <summary>Unreachable: the hosts of pairing kernels reject a warp tile one m16n8 tile wide.</summary>
    public readonly void StoreHalves<TEpilogue>(in TEpilogue epilogue, int row, int col) where TEpilogue : struct, IGemmPairEpilogue
    {
    }
}

/// <summary>Twice <typeparamref name="T"/>'s tiles: its tiles first, then <see cref="Hi"/>'s.</summary>
internal struct MmaCells2<T> : IMmaCells<MmaCells2<T>> where T : struct, IMmaCells<T>
{
    public T Lo, Hi;

    public readonly int Count => 2 * default(T).Count;

    public void Mma(uint a0, uint a1, uint a2, uint a3, ArrayView<uint> b, int offset, int stride)
    {
        Lo.Mma(a0, a1, a2, a3, b, offset, stride);
        Hi.Mma(a0, a1, a2, a3, b, offset + default(T).Count * 8 * stride, stride);
    }

    public readonly void Store<TEpilogue>(in TEpilogue epilogue, int row, int col) where TEpilogue : struct, IGemmEpilogue
    {
        Lo.Store(epilogue, row, col);
        Hi.Store(epilogue, row, col + default(T).Count * 8);
    }

    public readonly void StorePairs<TEpilogue>(in TEpilogue epilogue, in MmaCells2<T> second, int row, int col)
        where TEpilogue : struct, IGemmPairEpilogue
    {
        Lo.StorePairs(epilogue, second.Lo, row, col);
        Hi.StorePairs(epilogue, second.Hi, row, col + default(T).Count * 8);
    }

    public readonly void StoreHalves<TEpilogue>(in TEpilogue epilogue, int row, int col) where TEpilogue : struct, IGemmPairEpilogue =>
        Lo.StorePairs(epilogue, Hi, row, col);
}

/// <summary>A warp tile: <see cref="Rows"/> rows of m16 tiles, each row <see cref="Cols"/> n8 tiles wide.</summary>
internal interface IMmaTile<TSelf> where TSelf : struct, IMmaTile<TSelf>
{
    int Rows { get; }

    int Cols { get; }

    /// <summary>
    /// One k16 step: this lane's A fragment words for row-tile i start at <c>a[aOffset + i·16·stride]</c> (and the
    /// words 8 rows and 4 words further), its B fragments at <c>b[bOffset]</c> as in <see cref="IMmaCells{TSelf}.Mma"/>.
    /// A fragments are loaded once per row-tile; B fragments once per tile.
    /// </summary>
    void Mma(ArrayView<uint> a, int aOffset, ArrayView<uint> b, int bOffset, int stride);

    /// <summary>Hands this lane's elements to the epilogue; (row, col) is its c0 in tile (0, 0).</summary>
    void Store<TEpilogue>(in TEpilogue epilogue, int row, int col) where TEpilogue : struct, IGemmEpilogue;

    /// <summary>Each row of tiles to the epilogue in halves (<see cref="IMmaCells{TSelf}.StoreHalves"/>); (row, col) as in <see cref="Store"/>.</summary>
    void StoreHalves<TEpilogue>(in TEpilogue epilogue, int row, int col) where TEpilogue : struct, IGemmPairEpilogue;
}

/// <summary>One row of m16n8 tiles.</summary>
internal struct MmaRow<TCells> : IMmaTile<MmaRow<TCells>> where TCells : struct, IMmaCells<TCells>
{
    public TCells Cells;

    public readonly int Rows => 1;

    public readonly int Cols => default(TCells).Count;

    public void Mma(ArrayView<uint> a, int aOffset, ArrayView<uint> b, int bOffset, int stride) =>
        Cells.Mma(a[aOffset], a[aOffset + 8 * stride], a[aOffset + 4], a[aOffset + 8 * stride + 4], b, bOffset, stride);

    public readonly void Store<TEpilogue>(in TEpilogue epilogue, int row, int col) where TEpilogue : struct, IGemmEpilogue =>
        Cells.Store(epilogue, row, col);

    public readonly void StoreHalves<TEpilogue>(in TEpilogue epilogue, int row, int col) where TEpilogue : struct, IGemmPairEpilogue =>
        Cells.StoreHalves(epilogue, row, col);
}

/// <summary>Twice <typeparamref name="T"/>'s rows: its rows first, then <see cref="Hi"/>'s.</summary>
internal struct MmaRows2<T> : IMmaTile<MmaRows2<T>> where T : struct, IMmaTile<T>
{
    public T Lo, Hi;

    public readonly int Rows => 2 * default(T).Rows;

    public readonly int Cols => default(T).Cols;

    public void Mma(ArrayView<uint> a, int aOffset, ArrayView<uint> b, int bOffset, int stride)
    {
        Lo.Mma(a, aOffset, b, bOffset, stride);
        Hi.Mma(a, aOffset + default(T).Rows * 16 * stride, b, bOffset, stride);
    }

    public readonly void Store<TEpilogue>(in TEpilogue epilogue, int row, int col) where TEpilogue : struct, IGemmEpilogue
    {
        Lo.Store(epilogue, row, col);
        Hi.Store(epilogue, row + default(T).Rows * 16, col);
    }

    public readonly void StoreHalves<TEpilogue>(in TEpilogue epilogue, int row, int col) where TEpilogue : struct, IGemmPairEpilogue
    {
        Lo.StoreHalves(epilogue, row, col);
        Hi.StoreHalves(epilogue, row + default(T).Rows * 16, col);
    }
}
