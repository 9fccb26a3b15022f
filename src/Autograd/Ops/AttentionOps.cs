using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

public static partial class Ops
{
    /// <summary>
    /// Multi-head scaled dot-product attention over tokens: q [N, Lq, H·D], k [N, Lk, H·D], v [N, Lk, H·Dv] →
    /// [N, Lq, H·Dv]; <paramref name="scale"/> defaults to 1/√D. Only the per-row logsumexp is kept for backward
    /// (never an Lq×Lk matrix), and not even that outside a recording tape.
    /// </summary>
    public static Var Attention(Var q, Var k, Var v, int heads, float? scale = null, bool causal = false)
    {
        if (heads <= 0 || q.Shape.Rank != 3 || v.Shape.Rank != 3)
            throw new ArgumentException($"{nameof(Attention)}: q {q.Shape}, v {v.Shape} and {heads} heads do not describe [N, L, H·D] tokens.", nameof(heads));
        var y = Tensor.Empty(q.Device, DType.F32, q.Shape[0], q.Shape[1], v.Shape[2]);
        var lse = Tensor.Empty(q.Device, DType.F32, q.Shape[0], heads, q.Shape[1]);
        try
        {
            Kernels.Attention.Forward(q.Value, k.Value, v.Value, y, lse, heads, scale, causal);
        }
        catch
        {
            y.Dispose();
            lse.Dispose();
            throw;
        }
        Tensor[] saved = [q.Value.Share(), k.Value.Share(), v.Value.Share(), y.Share(), lse];
        return Recorder.Result(Recorder.ShouldRecord(q, k, v), y, saved, (g, grads, s) =>
        {
            // The kernel writes all three gradients; one nobody needs is released by Accumulate.
            var dq = Tensor.Empty(g.Device, DType.F32, q.Shape.ToArray());
            var dk = Tensor.Empty(g.Device, DType.F32, k.Shape.ToArray());
            var dv = Tensor.Empty(g.Device, DType.F32, v.Shape.ToArray());
            Kernels.Attention.Backward(s[0], s[1], s[2], s[3], s[4], g, dq, dk, dv, heads, scale, causal);
            grads.Accumulate(q, dq);
            grads.Accumulate(k, dk);
            grads.Accumulate(v, dv);
        });
    }
}
