using ILGPU;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// A fixed number of fp32 values one thread keeps in registers. ILGPU 1.5.3 does not unroll loops, so an array
/// indexed in a loop (<c>LocalMemory</c>) stays in local memory; these types are nested pairs of scalars instead
/// (<c>Regs2&lt;Regs2&lt;Regs1&gt;&gt;</c> holds four) whose methods recurse over the fields, so after inlining every
/// access names one scalar and ptxas keeps them all in registers. A <c>default</c> value is all zeros.
/// </summary>
internal interface IRegisters<TSelf> where TSelf : struct, IRegisters<TSelf>
{
    /// <summary>How many values.</summary>
    int Count { get; }

    /// <summary>Value i = <c>source[offset + i·stride]</c>.</summary>
    void Load(ArrayView<float> source, int offset, int stride);

    /// <summary>Value i += scale · x's value i.</summary>
    void AddScaled(float scale, in TSelf x);

    /// <summary>Hands value i to the epilogue as element (row, col + i·colStep).</summary>
    void Store<TEpilogue>(in TEpilogue epilogue, int row, int col, int colStep) where TEpilogue : struct, IGemmEpilogue;

    /// <summary>Hands value i and <paramref name="second"/>'s value i to the epilogue as element (row, col + i·colStep).</summary>
    void StorePairs<TEpilogue>(in TEpilogue epilogue, in TSelf second, int row, int col, int colStep)
        where TEpilogue : struct, IGemmPairEpilogue;

    /// <summary>
    /// Hands the first half of the values, paired with the second half, to the epilogue as element
    /// (row, col + i·colStep), i &lt; Count / 2: for kernels whose columns j and j + Count / 2 belong together.
    /// A single register has no halves; kernels that pair columns require an even count on the host.
    /// </summary>
    void StoreHalves<TEpilogue>(in TEpilogue epilogue, int row, int col, int colStep) where TEpilogue : struct, IGemmPairEpilogue;
}

/// <summary>One register.</summary>
internal struct Regs1 : IRegisters<Regs1>
{
    public float Value;

    public readonly int Count => 1;

    public void Load(ArrayView<float> source, int offset, int stride) => Value = source[offset];

    public void AddScaled(float scale, in Regs1 x) => Value += scale * x.Value;

    public readonly void Store<TEpilogue>(in TEpilogue epilogue, int row, int col, int colStep) where TEpilogue : struct, IGemmEpilogue =>
        epilogue.Write(row, col, Value);

    public readonly void StorePairs<TEpilogue>(in TEpilogue epilogue, in Regs1 second, int row, int col, int colStep)
        where TEpilogue : struct, IGemmPairEpilogue =>
        epilogue.Write(row, col, Value, second.Value);

    /// <summary>Unreachable: the hosts of pairing kernels reject a shape with one column per thread.</summary>
    public readonly void StoreHalves<TEpilogue>(in TEpilogue epilogue, int row, int col, int colStep)
        where TEpilogue : struct, IGemmPairEpilogue
    {
    }
}

/// <summary>Twice <typeparamref name="T"/>'s registers: its values first, then <see cref="Hi"/>'s.</summary>
internal struct Regs2<T> : IRegisters<Regs2<T>> where T : struct, IRegisters<T>
{
    public T Lo, Hi;

    public readonly int Count => 2 * default(T).Count;

    public void Load(ArrayView<float> source, int offset, int stride)
    {
        Lo.Load(source, offset, stride);
        Hi.Load(source, offset + default(T).Count * stride, stride);
    }

    public void AddScaled(float scale, in Regs2<T> x)
    {
        Lo.AddScaled(scale, x.Lo);
        Hi.AddScaled(scale, x.Hi);
    }

    public readonly void Store<TEpilogue>(in TEpilogue epilogue, int row, int col, int colStep) where TEpilogue : struct, IGemmEpilogue
    {
        Lo.Store(epilogue, row, col, colStep);
        Hi.Store(epilogue, row, col + default(T).Count * colStep, colStep);
    }

    public readonly void StorePairs<TEpilogue>(in TEpilogue epilogue, in Regs2<T> second, int row, int col, int colStep)
        where TEpilogue : struct, IGemmPairEpilogue
    {
        Lo.StorePairs(epilogue, second.Lo, row, col, colStep);
        Hi.StorePairs(epilogue, second.Hi, row, col + default(T).Count * colStep, colStep);
    }

    public readonly void StoreHalves<TEpilogue>(in TEpilogue epilogue, int row, int col, int colStep)
        where TEpilogue : struct, IGemmPairEpilogue =>
        Lo.StorePairs(epilogue, Hi, row, col, colStep);
}

/// <summary>
/// A thread's TM × TN block of fp32 accumulators in registers: <see cref="Rows"/> rows of <typeparamref name="TRow"/>
/// (see <see cref="IRegisters{TSelf}"/> for why it is built from nested types). A <c>default</c> value is all zeros.
/// </summary>
internal interface IRegisterTile<TSelf, TRow>
    where TSelf : struct, IRegisterTile<TSelf, TRow>
    where TRow : struct, IRegisters<TRow>
{
    /// <summary>How many rows.</summary>
    int Rows { get; }

    /// <summary>Row i += <c>a[offset + i·stride]</c> · b: one k-step of the outer-product update.</summary>
    void AddOuter(ArrayView<float> a, int offset, int stride, in TRow b);

    /// <summary>Hands element (i, j) to the epilogue as (row + i·rowStep, col + j·colStep).</summary>
    void Store<TEpilogue>(in TEpilogue epilogue, int row, int rowStep, int col, int colStep) where TEpilogue : struct, IGemmEpilogue;

    /// <summary>
    /// Hands elements (i, j) and (i, j + TN / 2), j &lt; TN / 2, to the epilogue as element (row + i·rowStep,
    /// col + j·colStep) (<see cref="IRegisters{TSelf}.StoreHalves"/>).
    /// </summary>
    void StoreHalves<TEpilogue>(in TEpilogue epilogue, int row, int rowStep, int col, int colStep)
        where TEpilogue : struct, IGemmPairEpilogue;
}

/// <summary>One row of accumulators.</summary>
internal struct Rows1<TRow> : IRegisterTile<Rows1<TRow>, TRow> where TRow : struct, IRegisters<TRow>
{
    public TRow Row;

    public readonly int Rows => 1;

    public void AddOuter(ArrayView<float> a, int offset, int stride, in TRow b) => Row.AddScaled(a[offset], b);

    public readonly void Store<TEpilogue>(in TEpilogue epilogue, int row, int rowStep, int col, int colStep)
        where TEpilogue : struct, IGemmEpilogue =>
        Row.Store(epilogue, row, col, colStep);

    public readonly void StoreHalves<TEpilogue>(in TEpilogue epilogue, int row, int rowStep, int col, int colStep)
        where TEpilogue : struct, IGemmPairEpilogue =>
        Row.StoreHalves(epilogue, row, col, colStep);
}

/// <summary>Twice <typeparamref name="T"/>'s rows: its rows first, then <see cref="Hi"/>'s.</summary>
internal struct Rows2<T, TRow> : IRegisterTile<Rows2<T, TRow>, TRow>
    where T : struct, IRegisterTile<T, TRow>
    where TRow : struct, IRegisters<TRow>
{
    public T Lo, Hi;

    public readonly int Rows => 2 * default(T).Rows;

    public void AddOuter(ArrayView<float> a, int offset, int stride, in TRow b)
    {
        Lo.AddOuter(a, offset, stride, b);
        Hi.AddOuter(a, offset + default(T).Rows * stride, stride, b);
    }

    public readonly void Store<TEpilogue>(in TEpilogue epilogue, int row, int rowStep, int col, int colStep)
        where TEpilogue : struct, IGemmEpilogue
    {
        Lo.Store(epilogue, row, rowStep, col, colStep);
        Hi.Store(epilogue, row + default(T).Rows * rowStep, rowStep, col, colStep);
    }

    public readonly void StoreHalves<TEpilogue>(in TEpilogue epilogue, int row, int rowStep, int col, int colStep)
        where TEpilogue : struct, IGemmPairEpilogue
    {
        Lo.StoreHalves(epilogue, row, rowStep, col, colStep);
        Hi.StoreHalves(epilogue, row + default(T).Rows * rowStep, rowStep, col, colStep);
    }
}
