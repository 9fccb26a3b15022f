using System.Runtime.CompilerServices;
using ILGPU;

namespace IlgpuDiffusion.Kernels;

using ScoreRegisters = RegisterPair<RegisterPair<RegisterPair<Register, Register>, RegisterPair<Register, Register>>,
    RegisterPair<RegisterPair<Register, Register>, RegisterPair<Register, Register>>>;
using ChannelRegisters = RegisterPair<
    RegisterPair<RegisterPair<RegisterPair<Register, Register>, RegisterPair<Register, Register>>,
        RegisterPair<RegisterPair<Register, Register>, RegisterPair<Register, Register>>>,
    RegisterPair<RegisterPair<RegisterPair<Register, Register>, RegisterPair<Register, Register>>,
        RegisterPair<RegisterPair<Register, Register>, RegisterPair<Register, Register>>>>;

/// <summary>
/// A thread's registers for one owned row of a flash-attention tile: its scores against the thread's streamed rows
/// (<see cref="Scores"/>, <see cref="Grads"/>: S or P, dP or dS) and its accumulators for the thread's channels
/// (<see cref="Acc"/>, <see cref="Acc2"/>: O, dQ, or dK and dV), plus the forward's running max and sum. A kernel
/// uses the fields it needs; the others are never touched and take no registers.
/// </summary>
internal struct FlashRow
{
    /// <summary>Most streamed rows a thread may own scores for (see <see cref="FlashTile"/>).</summary>
    public const int ScoreCapacity = 8;

    /// <summary>Most channels a thread may accumulate per row.</summary>
    public const int ChannelCapacity = 16;

    /// <summary>Most owned rows per thread (<see cref="FlashRows"/>).</summary>
    public const int RowCapacity = 4;

    public ScoreRegisters Scores;
    public ScoreRegisters Grads;
    public ChannelRegisters Acc;
    public ChannelRegisters Acc2;
    public float Max;
    public float Sum;
}

/// <summary>A per-row step of a flash-attention kernel, applied to each of a thread's rows by <see cref="FlashRows.ForEach"/>.</summary>
internal interface IFlashRowOp
{
    /// <summary>Applies the step to the thread's row <paramref name="m"/> (owned row <c>firstRow + m</c>).</summary>
    void Apply(ref FlashRow row, int m);
}

/// <summary>
/// The up to <see cref="FlashRow.RowCapacity"/> owned rows of one thread, as fields so that each sits at a constant
/// register offset; <see cref="ForEach"/> is the unrolled loop over the first <c>rows</c> of them.
/// </summary>
internal struct FlashRows
{
    public FlashRow R0, R1, R2, R3;

    /// <summary>Applies <paramref name="op"/> to rows 0 .. <paramref name="rows"/> − 1 in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ForEach<TOp>(ref TOp op, int rows) where TOp : struct, IFlashRowOp
    {
        op.Apply(ref R0, 0);
        if (rows > 1) op.Apply(ref R1, 1);
        if (rows > 2) op.Apply(ref R2, 2);
        if (rows > 3) op.Apply(ref R3, 3);
    }
}

/// <summary>
/// Scores += x_m · Y (or Grads, with <see cref="IntoGrads"/>) for one channel e: x_m is the owned tile's element
/// X[Index + m·Ld] and <see cref="Y"/> the thread's streamed rows' element e, loaded once for all its rows.
/// </summary>
internal struct AddScores(ArrayView<float> x, int ld, int count, bool intoGrads) : IFlashRowOp
{
    public ScoreRegisters Y;
    public int Index;
    public readonly ArrayView<float> X = x;
    public readonly int Ld = ld, Count = count;
    public readonly bool IntoGrads = intoGrads;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Apply(ref FlashRow row, int m)
    {
        float xm = X[Index + m * Ld];
        if (IntoGrads) row.Grads.AddScaled(xm, ref Y, 0, Count);
        else row.Scores.AddScaled(xm, ref Y, 0, Count);
    }
}

/// <summary>
/// Acc += w_m · Z (or Acc2, with <see cref="IntoAcc2"/>) for one streamed row c: w_m is the products tile's element
/// W[Index + m·Ld] and <see cref="Z"/> the thread's channels of streamed row c, loaded once for all its rows.
/// </summary>
internal struct AddProducts(ArrayView<float> w, int ld, int count, bool intoAcc2) : IFlashRowOp
{
    public ChannelRegisters Z;
    public int Index;
    public readonly ArrayView<float> W = w;
    public readonly int Ld = ld, Count = count;
    public readonly bool IntoAcc2 = intoAcc2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Apply(ref FlashRow row, int m)
    {
        float wm = W[Index + m * Ld];
        if (IntoAcc2) row.Acc2.AddScaled(wm, ref Z, 0, Count);
        else row.Acc.AddScaled(wm, ref Z, 0, Count);
    }
}

/// <summary>
/// The forward's online-softmax step for one key block: masks and scales the scores, takes the team's row max,
/// writes P = exp(S − m_new) to the shared tile, adds its row sum to l after rescaling l and O by exp(m_old − m_new),
/// and clears the scores for the next block.
/// </summary>
internal readonly struct OnlineSoftmax(
    ArrayView<float> p, int pIndex, int pLd, int firstKey, int firstQuery, int keyLength, bool causal,
    bool firstBlock, float scale, int team, int keys, int channels) : IFlashRowOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Apply(ref FlashRow row, int m)
    {
        int i = firstQuery + m;
        row.Scores.Mask(scale, firstKey, team, 0, causal ? Math.Min(keyLength, i + 1) : keyLength, 0, keys);
        float blockMax = FlashTileMath.TeamMax(row.Scores.Max(0, keys), team);
        // Every row attends to key 0, in the first block, so the running max is finite from there on.
        float newMax = firstBlock ? blockMax : MathF.Max(row.Max, blockMax);
        float blockSum = FlashTileMath.TeamSum(row.Scores.ExpSum(newMax, 0, keys), team);
        row.Scores.Store(p, pIndex + m * pLd, team, 1f, 0, keys);
        float rescale = firstBlock ? 0f : MathF.Exp(row.Max - newMax);
        row.Sum = row.Sum * rescale + blockSum;
        row.Max = newMax;
        row.Acc.Scale(rescale, 0, channels);
        row.Scores = default;
    }
}

/// <summary>
/// The backward's score gradients for one block: P = exp(scale·S − lse) (masked to 0), dS = P ⊙ (dP − D), stored to
/// the shared tiles (P only when <paramref name="p"/> is wanted), then clears S and dP for the next block. With
/// <paramref name="ownsQueries"/> the thread's rows are queries and its streamed rows keys (the dQ pass: lse and D
/// per row); otherwise the rows are keys and the streamed rows queries (the dK, dV pass: lse and D per column).
/// </summary>
internal readonly struct ScoreGradients(
    ArrayView<float> p, bool storeP, ArrayView<float> ds, int index, int ld, ArrayView<float> logSumExp,
    ArrayView<float> delta, bool ownsQueries, int firstRow, int localRow, int firstStreamed, int streamedLength,
    bool causal, float scale, int lane, int team, int count) : IFlashRowOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Apply(ref FlashRow row, int m)
    {
        int owned = firstRow + m;
        int low = ownsQueries || !causal ? 0 : owned;
        int high = ownsQueries && causal ? Math.Min(streamedLength, owned + 1) : streamedLength;
        int stat = ownsQueries ? localRow + m : lane, statStep = ownsQueries ? 0 : team;
        row.Scores.Probabilities(scale, logSumExp, stat, statStep, firstStreamed, team, low, high, 0, count);
        row.Grads.ScoreGrads(ref row.Scores, delta, stat, statStep, 0, count);
        if (storeP) row.Scores.Store(p, index + m * ld, team, 1f, 0, count);
        row.Grads.Store(ds, index + m * ld, team, 1f, 0, count);
        row.Scores = default;
        row.Grads = default;
    }
}

/// <summary>
/// target[Index + m·Stride + lane + team·u] = scale · Acc (or Acc2) for the rows m &lt; validRows; with
/// <paramref name="normalize"/> the scale is divided by the row's softmax sum.
/// </summary>
internal readonly struct StoreAcc(
    ArrayView<float> target, int index, int stride, int validRows, float scale, bool normalize, bool fromAcc2,
    int team, int count) : IFlashRowOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Apply(ref FlashRow row, int m)
    {
        if (m >= validRows) return;
        float s = normalize ? scale / row.Sum : scale;
        if (fromAcc2) row.Acc2.Store(target, index + m * stride, team, s, 0, count);
        else row.Acc.Store(target, index + m * stride, team, s, 0, count);
    }
}

/// <summary>logSumExp[index + m] = m_m + log l_m for the rows m &lt; validRows, written by the team's first lane.</summary>
internal readonly struct StoreLogSumExp(ArrayView<float> logSumExp, int index, int validRows, int lane) : IFlashRowOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Apply(ref FlashRow row, int m)
    {
        if (m < validRows && lane == 0) logSumExp[index + m] = row.Max + MathF.Log(row.Sum);
    }
}
