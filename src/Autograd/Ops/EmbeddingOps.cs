using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

public static partial class Ops
{
    /// <summary>
    /// Rows of table [V, C] (F32, or F16 frozen only) picked by the I32 <paramref name="ids"/> (any shape) → [..ids, C].
    /// Backward scatter-adds into a full [V, C] gradient of the table (deterministic, no atomics).
    /// </summary>
    public static Var Embedding(Var table, Tensor ids)
    {
        RequireFrozenIfHalf(nameof(Embedding), table, nameof(table));
        var y = Kernels.Embedding.Gather(ids, table.Value);
        return Recorder.Result(Recorder.ShouldRecord(table), y, [ids.Share()], (g, grads, s) =>
        {
            var dt = Tensor.Zeros(g.Device, DType.F32, table.Shape.ToArray());
            Kernels.Embedding.ScatterAdd(s[0], g, dt);
            grads.Accumulate(table, dt);
        });
    }
}
