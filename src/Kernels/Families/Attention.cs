using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Multi-head scaled dot-product attention over the engine's token layout, with no head transposes:
/// q [N, Lq, H·D], k [N, Lk, H·D], v [N, Lk, H·Dv] → output [N, Lq, H·Dv], where head h reads channels
/// [h·D, (h+1)·D) of q and k and [h·Dv, (h+1)·Dv) of v, and O_i = Σ_j softmax_j(scale · q_i·k_j) v_j.
/// Self-attention has Lk = Lq; cross-attention any Lk (77 text tokens in SD). The optional causal mask (CLIP's
/// text encoder) drops keys j &gt; i and needs Lq = Lk. No Lq×Lk matrix is ever stored.
/// <para>
/// Portable forward, one thread per (n, h, i) row: pass 1 walks the keys keeping a running max m and a sum l
/// rescaled whenever m grows (online softmax), giving lse_i = m + log l; pass 2 accumulates
/// O_i = Σ_j exp(s_ij − lse_i) v_j. lse [N, H, Lq] is saved for the backward.
/// </para>
/// <para>
/// Portable backward, FlashAttention-style recomputation of p_ij = exp(s_ij − lse_i), deterministic (every
/// gradient row is summed by one thread in a fixed order, no atomics). One thread per (n, h, i) query row
/// computes D_i = dO_i·O_i (kept for the second kernel) and dQ_i = scale · Σ_j ds_ij k_j with
/// ds_ij = p_ij (dP_ij − D_i), dP_ij = dO_i·v_j. Then one thread per (n, h, j) key row loops over the queries
/// for dV_j = Σ_i p_ij dO_i and dK_j = scale · Σ_i ds_ij q_i.
/// </para>
/// <para>
/// On CUDA, for fp32 with Dv = D ∈ {40, 80, 160} (SD's head dims), the dispatchers pick the tuned flash-attention
/// kernels instead (<see cref="FlashAttention"/>, docs/FLASH_ATTENTION.md): same results, tiled in shared memory.
/// With <c>IDF_TENSOR_CORES=1</c> the forward runs on tensor cores (<see cref="TensorCoreFlashAttention"/>: fp16
/// operands, fp32 accumulation and softmax, the fp16 bound of 5e-3); the backward stays fp32.
/// </para>
/// </summary>
public static class Attention
{
    /// <summary>The portable forward: the reference the tuned forwards are tested and self-checked against.</summary>
    internal static readonly KernelVariant<AttentionForwardArgs> PortableForward =
        new("attention-forward-portable", KernelTier.Portable, (_, _) => true, LaunchForwardPortable);

    /// <summary>
    /// Picks the kernels of <see cref="Forward"/>: on CUDA for SD's head dims, the tensor-core flash attention when
    /// enabled (<see cref="KernelPolicy.TensorCores"/>) and self-checked, else fp32 flash attention; else portable.
    /// </summary>
    internal static readonly OpDispatcher<AttentionForwardArgs> ForwardDispatcher = new(
        PortableForward,
        AttentionSelfCheck.Guard(TensorCoreFlashAttention.Variant, PortableForward).Variant,
        new KernelVariant<AttentionForwardArgs>("attention-forward-flash", KernelTier.CudaTuned,
            (device, a) => FlashAttention.Supports(device, a.Q, a.Dims),
            (device, a) => FlashAttention.Forward(device, a, FlashTiles.ForHeadDim(a.Dims.HeadDim)!.Forward)));

    /// <summary>Picks the kernels of <see cref="Backward"/>: flash attention on CUDA for SD's head dims, else portable.</summary>
    internal static readonly OpDispatcher<AttentionBackwardArgs> BackwardDispatcher = new(
        new KernelVariant<AttentionBackwardArgs>("attention-backward-portable", KernelTier.Portable, (_, _) => true, LaunchBackwardPortable),
        new KernelVariant<AttentionBackwardArgs>("attention-backward-flash", KernelTier.CudaTuned,
            (device, a) => FlashAttention.Supports(device, a.Q, a.Dims),
            (device, a) =>
            {
                var tiles = FlashTiles.ForHeadDim(a.Dims.HeadDim)!;
                FlashAttention.Backward(device, a, tiles.BackwardQuery, tiles.BackwardKeyValue);
            }));

    /// <summary>
    /// Writes the attention of <paramref name="q"/> over <paramref name="k"/>, <paramref name="v"/> with
    /// <paramref name="heads"/> heads into <paramref name="output"/> [N, Lq, H·Dv] and each row's logsumexp of the
    /// scaled logits into <paramref name="logSumExp"/> [N, H, Lq]. <paramref name="scale"/> defaults to 1/√D.
    /// The outputs must not alias the inputs.
    /// </summary>
    public static void Forward(Tensor q, Tensor k, Tensor v, Tensor output, Tensor logSumExp, int heads,
        float? scale = null, bool causal = false)
    {
        var dims = Validate(nameof(Forward), q, k, v, output, logSumExp, heads, scale, causal);
        ForwardDispatcher.Launch(q.Device, new AttentionForwardArgs(q, k, v, output, logSumExp, dims));
    }

    /// <summary>
    /// Writes the gradients <paramref name="qGrad"/>, <paramref name="kGrad"/>, <paramref name="vGrad"/> (shaped like
    /// q, k, v; overwritten, not accumulated) of the attention whose <see cref="Forward"/> produced
    /// <paramref name="output"/> and <paramref name="logSumExp"/>, given the output gradient
    /// <paramref name="outputGrad"/>. The other arguments must be those given to that forward call.
    /// </summary>
    public static void Backward(Tensor q, Tensor k, Tensor v, Tensor output, Tensor logSumExp, Tensor outputGrad,
        Tensor qGrad, Tensor kGrad, Tensor vGrad, int heads, float? scale = null, bool causal = false)
    {
        const string op = nameof(Backward);
        var dims = Validate(op, q, k, v, output, logSumExp, heads, scale, causal);
        var device = q.Device;
        foreach (var (name, grad, like, likeName) in new[]
                 {
                     (nameof(outputGrad), outputGrad, output, nameof(output)), (nameof(qGrad), qGrad, q, nameof(q)),
                     (nameof(kGrad), kGrad, k, nameof(k)), (nameof(vGrad), vGrad, v, nameof(v)),
                 })
        {
            Require.DType(op, name, grad, DType.F32);
            Require.SameDevice(op, name, grad, device);
            Require.SameShape(op, name, grad, like, likeName);
        }
        BackwardDispatcher.Launch(device, new AttentionBackwardArgs(q, k, v, output, logSumExp, outputGrad, qGrad, kGrad, vGrad, dims));
    }

    private static AttentionDims Validate(string op, Tensor q, Tensor k, Tensor v, Tensor output, Tensor logSumExp,
        int heads, float? scale, bool causal)
    {
        var device = q.Device;
        foreach (var (name, t) in new[] { (nameof(q), q), (nameof(k), k), (nameof(v), v), (nameof(output), output), (nameof(logSumExp), logSumExp) })
        {
            Require.DType(op, name, t, DType.F32);
            Require.SameDevice(op, name, t, device);
        }
        Require.Rank(op, nameof(q), q, 3);
        Require.Rank(op, nameof(k), k, 3);
        Require.Rank(op, nameof(v), v, 3);
        if (heads <= 0) throw new ArgumentException($"{op}: heads is {heads}, expected a positive count.", nameof(heads));
        int n = q.Shape[0], lq = q.Shape[1], lk = k.Shape[1];
        if (q.Shape[2] % heads != 0)
            throw new ArgumentException($"{op}: q has shape {q.Shape}; its {q.Shape[2]} channels do not split into {heads} heads.", nameof(q));
        if (v.Shape[2] % heads != 0)
            throw new ArgumentException($"{op}: v has shape {v.Shape}; its {v.Shape[2]} channels do not split into {heads} heads.", nameof(v));
        int d = q.Shape[2] / heads, dv = v.Shape[2] / heads;
        Require.Shape(op, nameof(k), k, n, lk, heads * d);
        Require.Shape(op, nameof(v), v, n, lk, heads * dv);
        if (causal && lq != lk)
            throw new ArgumentException($"{op}: the causal mask needs as many keys as queries; q has {lq} tokens, k has {lk}.", nameof(causal));
        float s = scale ?? 1f / MathF.Sqrt(d);
        if (!float.IsFinite(s)) throw new ArgumentException($"{op}: scale is {s}, expected a finite number.", nameof(scale));
        Require.Shape(op, nameof(output), output, n, lq, heads * dv);
        Require.Shape(op, nameof(logSumExp), logSumExp, n, heads, lq);
        return new AttentionDims(n, heads, lq, lk, d, dv, s, causal ? 1 : 0);
    }

    private static void LaunchForwardPortable(Device device, AttentionForwardArgs a)
    {
        var d = a.Dims;
        device.Accelerator.LaunchAutoGrouped(ForwardKernel, device.Stream, new Index1D(d.Batch * d.Heads * d.QueryLength),
            a.Q.F32View, a.K.F32View, a.V.F32View, a.Output.F32View, a.LogSumExp.F32View, d);
    }

    private static void LaunchBackwardPortable(Device device, AttentionBackwardArgs a)
    {
        var d = a.Dims;
        using var delta = Tensor.Empty(device, DType.F32, d.Batch, d.Heads, d.QueryLength);
        device.Accelerator.LaunchAutoGrouped(BackwardQueryKernel, device.Stream, new Index1D(d.Batch * d.Heads * d.QueryLength),
            a.Q.F32View, a.K.F32View, a.V.F32View, a.Output.F32View, a.LogSumExp.F32View, a.OutputGrad.F32View,
            delta.F32View, a.QGrad.F32View, d);
        device.Accelerator.LaunchAutoGrouped(BackwardKeyValueKernel, device.Stream, new Index1D(d.Batch * d.Heads * d.KeyLength),
            a.Q.F32View, a.K.F32View, a.V.F32View, a.LogSumExp.F32View, a.OutputGrad.F32View, delta.F32View,
            a.KGrad.F32View, a.VGrad.F32View, d);
        // The caching allocator may hand delta's block to the next op on this stream, which runs after these kernels.
    }

    /// <summary>Σ_t a[aStart + t] · b[bStart + t] for t &lt; length.</summary>
    private static float Dot(ArrayView<float> a, int aStart, ArrayView<float> b, int bStart, int length)
    {
        float sum = 0f;
        for (int t = 0; t < length; t++) sum += a[aStart + t] * b[bStart + t];
        return sum;
    }

    /// <summary>y[yStart + t] += alpha · x[xStart + t] for t &lt; length.</summary>
    private static void Axpy(float alpha, ArrayView<float> x, int xStart, ArrayView<float> y, int yStart, int length)
    {
        for (int t = 0; t < length; t++) y[yStart + t] += alpha * x[xStart + t];
    }

    /// <summary>y[start .. start + length) = 0.</summary>
    private static void Clear(ArrayView<float> y, int start, int length)
    {
        for (int t = 0; t < length; t++) y[start + t] = 0f;
    }

    /// <summary>One thread per (n, h, i) query row: online-softmax statistics, then the weighted sum of values.</summary>
    [Kernel]
    internal static void ForwardKernel(Index1D row, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v,
        ArrayView<float> output, ArrayView<float> logSumExp, AttentionDims d)
    {
        int i = row % d.QueryLength, nh = row / d.QueryLength;
        int h = nh % d.Heads, n = nh / d.Heads;
        int qRow = d.QueryRow(n, h, i), keys = d.KeysFor(i);

        float max = d.Scale * Dot(q, qRow, k, d.KeyRow(n, h, 0), d.HeadDim), sum = 1f;
        for (int j = 1; j < keys; j++)
        {
            float s = d.Scale * Dot(q, qRow, k, d.KeyRow(n, h, j), d.HeadDim);
            if (s > max)
            {
                sum = sum * MathF.Exp(max - s) + 1f;
                max = s;
            }
            else
            {
                sum += MathF.Exp(s - max);
            }
        }
        float lse = max + MathF.Log(sum);
        logSumExp[row] = lse;

        int oRow = d.OutputRow(n, h, i);
        Clear(output, oRow, d.ValueDim);
        for (int j = 0; j < keys; j++)
        {
            float p = MathF.Exp(d.Scale * Dot(q, qRow, k, d.KeyRow(n, h, j), d.HeadDim) - lse);
            Axpy(p, v, d.ValueRow(n, h, j), output, oRow, d.ValueDim);
        }
    }

    /// <summary>One thread per (n, h, i) query row: D_i = dO_i·O_i into <paramref name="delta"/>, and dQ_i.</summary>
    [Kernel]
    internal static void BackwardQueryKernel(Index1D row, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v,
        ArrayView<float> output, ArrayView<float> logSumExp, ArrayView<float> outputGrad, ArrayView<float> delta,
        ArrayView<float> qGrad, AttentionDims d)
    {
        int i = row % d.QueryLength, nh = row / d.QueryLength;
        int h = nh % d.Heads, n = nh / d.Heads;
        int qRow = d.QueryRow(n, h, i), oRow = d.OutputRow(n, h, i), keys = d.KeysFor(i);
        float lse = logSumExp[row];
        float di = Dot(outputGrad, oRow, output, oRow, d.ValueDim);
        delta[row] = di;

        Clear(qGrad, qRow, d.HeadDim);
        for (int j = 0; j < keys; j++)
        {
            int kRow = d.KeyRow(n, h, j);
            float p = MathF.Exp(d.Scale * Dot(q, qRow, k, kRow, d.HeadDim) - lse);
            float ds = p * (Dot(outputGrad, oRow, v, d.ValueRow(n, h, j), d.ValueDim) - di);
            Axpy(d.Scale * ds, k, kRow, qGrad, qRow, d.HeadDim);
        }
    }

    /// <summary>One thread per (n, h, j) key row: dV_j and dK_j, looping over the queries that attend to key j.</summary>
    [Kernel]
    internal static void BackwardKeyValueKernel(Index1D row, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v,
        ArrayView<float> logSumExp, ArrayView<float> outputGrad, ArrayView<float> delta,
        ArrayView<float> kGrad, ArrayView<float> vGrad, AttentionDims d)
    {
        int j = row % d.KeyLength, nh = row / d.KeyLength;
        int h = nh % d.Heads, n = nh / d.Heads;
        int kRow = d.KeyRow(n, h, j), vRow = d.ValueRow(n, h, j);

        Clear(kGrad, kRow, d.HeadDim);
        Clear(vGrad, vRow, d.ValueDim);
        for (int i = d.FirstQueryFor(j); i < d.QueryLength; i++)
        {
            int qRow = d.QueryRow(n, h, i), oRow = d.OutputRow(n, h, i), stat = d.Statistic(n, h, i);
            float p = MathF.Exp(d.Scale * Dot(q, qRow, k, kRow, d.HeadDim) - logSumExp[stat]);
            Axpy(p, outputGrad, oRow, vGrad, vRow, d.ValueDim);
            float ds = p * (Dot(outputGrad, oRow, v, vRow, d.ValueDim) - delta[stat]);
            Axpy(d.Scale * ds, q, qRow, kGrad, kRow, d.HeadDim);
        }
    }
}
