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

    /// <summary>
    /// The token embedding of a vocabulary extended by appended rows (concept tokens): ids below V pick rows of the
    /// frozen <paramref name="table"/> [V, C] (F32 or F16, read in place, never copied), ids V … V + k − 1 pick rows of
    /// <paramref name="extraRows"/> [k, C] (F32) → [..ids, C]. Backward scatter-adds into the extra rows only, in
    /// position order (deterministic); the table gets no gradient, so it must be frozen.
    /// </summary>
    /// <exception cref="ArgumentException">The table requires grad, or a dtype, shape or id does not fit.</exception>
    public static Var Embedding(Var table, Var extraRows, Tensor ids)
    {
        if (table.RequiresGrad)
            throw new ArgumentException(
                $"{nameof(Embedding)}: {table} requires grad; with extra rows the base table stays frozen (train the extra rows).", nameof(table));
        int vocabulary = table.Shape[0];
        var y = Kernels.Embedding.Gather(ids, table.Value, extraRows.Value);
        return Recorder.Result(Recorder.ShouldRecord(extraRows), y, [ids.Share()], (g, grads, s) =>
        {
            var rows = Enumerable.Range(vocabulary, extraRows.Shape[0]).ToArray();
            var dr = Tensor.Zeros(g.Device, DType.F32, extraRows.Shape.ToArray());
            Kernels.Embedding.ScatterAddRows(s[0], g, rows, dr);
            grads.Accumulate(extraRows, dr);
        });
    }
}
