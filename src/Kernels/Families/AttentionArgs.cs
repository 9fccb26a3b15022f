namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The extents of one attention call, passed to the kernels as one value, with the offsets of its rows in the
/// token layout: q and k are [N, L, H·D], v and the output [N, L, H·Dv], the logsumexp [N, H, Lq]; head h of a
/// token owns channels [h·D, (h+1)·D) (or [h·Dv, (h+1)·Dv)). <see cref="Causal"/> is 1 for a causal mask, else 0.
/// </summary>
internal readonly record struct AttentionDims(
    int Batch, int Heads, int QueryLength, int KeyLength, int HeadDim, int ValueDim, float Scale, int Causal)
{
    /// <summary>Where query i's head h starts in q (and in dQ).</summary>
    public int QueryRow(int n, int h, int i) => ((n * QueryLength + i) * Heads + h) * HeadDim;

    /// <summary>Where key j's head h starts in k (and in dK).</summary>
    public int KeyRow(int n, int h, int j) => ((n * KeyLength + j) * Heads + h) * HeadDim;

    /// <summary>Where value j's head h starts in v (and in dV).</summary>
    public int ValueRow(int n, int h, int j) => ((n * KeyLength + j) * Heads + h) * ValueDim;

    /// <summary>Where query i's head h starts in the output (and in dO).</summary>
    public int OutputRow(int n, int h, int i) => ((n * QueryLength + i) * Heads + h) * ValueDim;

    /// <summary>Index of (n, h, i) in the [N, H, Lq] logsumexp and delta rows.</summary>
    public int Statistic(int n, int h, int i) => (n * Heads + h) * QueryLength + i;

    /// <summary>Keys query i attends to: all Lk, or 0..i under the causal mask.</summary>
    public int KeysFor(int i) => Causal == 1 ? i + 1 : KeyLength;

    /// <summary>First query that attends to key j: 0, or j under the causal mask.</summary>
    public int FirstQueryFor(int j) => Causal == 1 ? j : 0;
}

/// <summary>Validated operands of <see cref="Attention.Forward"/>.</summary>
internal readonly record struct AttentionForwardArgs(
    Tensor Q, Tensor K, Tensor V, Tensor Output, Tensor LogSumExp, AttentionDims Dims);

/// <summary>Validated operands of <see cref="Attention.Backward"/>.</summary>
internal readonly record struct AttentionBackwardArgs(
    Tensor Q, Tensor K, Tensor V, Tensor Output, Tensor LogSumExp, Tensor OutputGrad,
    Tensor QGrad, Tensor KGrad, Tensor VGrad, AttentionDims Dims);
