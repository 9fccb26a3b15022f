using ILGPU;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// A warp's fp32 accumulators for a strip of 16 rows × <see cref="Columns"/> columns of the tensor-core flash
/// attention (<see cref="TensorCoreFlashAttention"/>): the scores S (16 queries × a key block) or the output O
/// (16 queries × the padded head dim). Columns come in blocks of 16, each two m16n8 tiles (<see cref="MmaCell"/>,
/// in the fragment layout of <see cref="TensorCore"/>): lane (g = lane / 4, t = lane % 4) holds, per tile, rows g
/// (c0, c1) and g + 8 (c2, c3) at columns 2t and 2t + 1. Nested like <see cref="IMmaCells{TSelf}"/> so that every
/// element stays in a register; a <c>default</c> value is all zeros. "Row 0" and "row 8" below mean rows g and g + 8.
/// </summary>
internal interface IFlashMmaRow<TSelf> where TSelf : struct, IFlashMmaRow<TSelf>
{
    /// <summary>Columns, a multiple of 16.</summary>
    int Columns { get; }

    /// <summary>
    /// One k16 step: tile j += A · B_j, A's fragment given, this lane's B_j words at <c>b[offset + j·8·stride]</c>
    /// and 4 words further (B stored as [column][k / 2] packed fp16 pairs).
    /// </summary>
    void Mma(uint a0, uint a1, uint a2, uint a3, ArrayView<uint> b, int offset, int stride);

    /// <summary>
    /// Scores: each element becomes <paramref name="scale"/> times itself when its key (<paramref name="key"/> for
    /// this lane's c0 of tile 0, 8·j further for tile j, +1 for c1 and c3) is below the row's bound
    /// (<paramref name="high0"/>, <paramref name="high8"/>), else −∞.
    /// </summary>
    void MaskScale(float scale, int key, int high0, int high8);

    /// <summary>Raises <paramref name="max0"/>, <paramref name="max8"/> to this lane's largest element of each row.</summary>
    void RowMax(ref float max0, ref float max8);

    /// <summary>Each element x of row r becomes exp(x − max_r), which is added to sum_r.</summary>
    void Exp(float max0, float max8, ref float sum0, ref float sum8);

    /// <summary>Multiplies the elements of row 0 by <paramref name="scale0"/> and of row 8 by <paramref name="scale8"/>.</summary>
    void Scale(float scale0, float scale8);

    /// <summary>
    /// <paramref name="output"/> += this · B, with this rounded to fp16 as the A operand: the accumulator layout of
    /// two adjacent m16n8 tiles is the A fragment of one k16 step, so P never leaves the registers. Step s (columns
    /// 16s … 16s + 15) reads B at <c>offset + 8s</c> words, as <see cref="Mma"/> does.
    /// </summary>
    void MultiplyInto<TOut>(ref TOut output, ArrayView<uint> b, int offset, int stride) where TOut : struct, IFlashMmaRow<TOut>;

    /// <summary>
    /// target[row + c] = scale_r · element at column c, for this lane's columns c &lt; <paramref name="width"/>
    /// (<paramref name="column"/> is its c0's column in tile 0); a row whose start is negative is skipped.
    /// </summary>
    void Store(ArrayView<float> target, int row0, int row8, int column, int width, float scale0, float scale8);
}

/// <summary>16 columns: two m16n8 tiles side by side, <see cref="Lo"/> first.</summary>
internal struct FlashMmaBlock : IFlashMmaRow<FlashMmaBlock>
{
    public MmaCell Lo, Hi;

    public readonly int Columns => 16;

    public void Mma(uint a0, uint a1, uint a2, uint a3, ArrayView<uint> b, int offset, int stride)
    {
        Lo.Mma(a0, a1, a2, a3, b, offset, stride);
        Hi.Mma(a0, a1, a2, a3, b, offset + 8 * stride, stride);
    }

    public void MaskScale(float scale, int key, int high0, int high8)
    {
        Lo.C0 = Masked(Lo.C0, scale, key < high0);
        Lo.C1 = Masked(Lo.C1, scale, key + 1 < high0);
        Lo.C2 = Masked(Lo.C2, scale, key < high8);
        Lo.C3 = Masked(Lo.C3, scale, key + 1 < high8);
        Hi.C0 = Masked(Hi.C0, scale, key + 8 < high0);
        Hi.C1 = Masked(Hi.C1, scale, key + 9 < high0);
        Hi.C2 = Masked(Hi.C2, scale, key + 8 < high8);
        Hi.C3 = Masked(Hi.C3, scale, key + 9 < high8);
    }

    public readonly void RowMax(ref float max0, ref float max8)
    {
        max0 = MathF.Max(max0, MathF.Max(MathF.Max(Lo.C0, Lo.C1), MathF.Max(Hi.C0, Hi.C1)));
        max8 = MathF.Max(max8, MathF.Max(MathF.Max(Lo.C2, Lo.C3), MathF.Max(Hi.C2, Hi.C3)));
    }

    public void Exp(float max0, float max8, ref float sum0, ref float sum8)
    {
        Lo.C0 = MathF.Exp(Lo.C0 - max0);
        Lo.C1 = MathF.Exp(Lo.C1 - max0);
        Hi.C0 = MathF.Exp(Hi.C0 - max0);
        Hi.C1 = MathF.Exp(Hi.C1 - max0);
        Lo.C2 = MathF.Exp(Lo.C2 - max8);
        Lo.C3 = MathF.Exp(Lo.C3 - max8);
        Hi.C2 = MathF.Exp(Hi.C2 - max8);
        Hi.C3 = MathF.Exp(Hi.C3 - max8);
        sum0 += Lo.C0 + Lo.C1 + Hi.C0 + Hi.C1;
        sum8 += Lo.C2 + Lo.C3 + Hi.C2 + Hi.C3;
    }

    public void Scale(float scale0, float scale8)
    {
        Lo.C0 *= scale0;
        Lo.C1 *= scale0;
        Hi.C0 *= scale0;
        Hi.C1 *= scale0;
        Lo.C2 *= scale8;
        Lo.C3 *= scale8;
        Hi.C2 *= scale8;
        Hi.C3 *= scale8;
    }

    public readonly void MultiplyInto<TOut>(ref TOut output, ArrayView<uint> b, int offset, int stride)
        where TOut : struct, IFlashMmaRow<TOut> =>
        // a0: row g, k 2t and 2t+1 (Lo's c0, c1); a1: row g+8 (Lo's c2, c3); a2, a3: k + 8, from Hi.
        output.Mma(Half2(Lo.C0, Lo.C1), Half2(Lo.C2, Lo.C3), Half2(Hi.C0, Hi.C1), Half2(Hi.C2, Hi.C3), b, offset, stride);

    public readonly void Store(ArrayView<float> target, int row0, int row8, int column, int width, float scale0, float scale8)
    {
        Store(target, row0, column, width, scale0, Lo.C0, Lo.C1);
        Store(target, row8, column, width, scale8, Lo.C2, Lo.C3);
        Store(target, row0, column + 8, width, scale0, Hi.C0, Hi.C1);
        Store(target, row8, column + 8, width, scale8, Hi.C2, Hi.C3);
    }

    private static float Masked(float value, float scale, bool keep) => keep ? scale * value : float.NegativeInfinity;

    private static uint Half2(float low, float high) => TensorCore.Pack(TensorCore.ToHalf(low), TensorCore.ToHalf(high));

    private static void Store(ArrayView<float> target, int row, int column, int width, float scale, float first, float second)
    {
        if (row < 0) return;
        if (column < width) target[row + column] = scale * first;
        if (column + 1 < width) target[row + column + 1] = scale * second;
    }
}

/// <summary><typeparamref name="TA"/>'s columns, then <typeparamref name="TB"/>'s.</summary>
internal struct FlashMmaPair<TA, TB> : IFlashMmaRow<FlashMmaPair<TA, TB>>
    where TA : struct, IFlashMmaRow<TA>
    where TB : struct, IFlashMmaRow<TB>
{
    public TA A;
    public TB B;

    public readonly int Columns => default(TA).Columns + default(TB).Columns;

    private static int Split => default(TA).Columns;

    public void Mma(uint a0, uint a1, uint a2, uint a3, ArrayView<uint> b, int offset, int stride)
    {
        A.Mma(a0, a1, a2, a3, b, offset, stride);
        B.Mma(a0, a1, a2, a3, b, offset + Split * stride, stride);
    }

    public void MaskScale(float scale, int key, int high0, int high8)
    {
        A.MaskScale(scale, key, high0, high8);
        B.MaskScale(scale, key + Split, high0, high8);
    }

    public readonly void RowMax(ref float max0, ref float max8)
    {
        A.RowMax(ref max0, ref max8);
        B.RowMax(ref max0, ref max8);
    }

    public void Exp(float max0, float max8, ref float sum0, ref float sum8)
    {
        A.Exp(max0, max8, ref sum0, ref sum8);
        B.Exp(max0, max8, ref sum0, ref sum8);
    }

    public void Scale(float scale0, float scale8)
    {
        A.Scale(scale0, scale8);
        B.Scale(scale0, scale8);
    }

    public readonly void MultiplyInto<TOut>(ref TOut output, ArrayView<uint> b, int offset, int stride)
        where TOut : struct, IFlashMmaRow<TOut>
    {
        A.MultiplyInto(ref output, b, offset, stride);
        B.MultiplyInto(ref output, b, offset + Split / 2, stride);
    }

    public readonly void Store(ArrayView<float> target, int row0, int row8, int column, int width, float scale0, float scale8)
    {
        A.Store(target, row0, row8, column, width, scale0, scale8);
        B.Store(target, row0, row8, column + Split, width, scale0, scale8);
    }
}
