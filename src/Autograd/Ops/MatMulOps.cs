using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

public static partial class Ops
{
    /// <summary>
    /// alpha · op(a) · op(b) (op = transpose when asked) for matrices [M, K]·[K, N] or batches [B, M, K]·[B, K, N];
    /// a matrix (or a batch of one) is shared by every batch of the other operand, and its gradient sums over them.
    /// a is F32; b is F32 or F16 (F16 only frozen).
    /// </summary>
    public static Var MatMul(Var a, Var b, bool transA = false, bool transB = false, float alpha = 1f)
    {
        RequireFrozenIfHalf(nameof(MatMul), b, nameof(b));
        foreach (var (name, v) in new[] { (nameof(a), a), (nameof(b), b) })
            if (v.Shape.Rank is not (2 or 3))
                throw new ArgumentException($"{nameof(MatMul)}: {name} has shape {v.Shape}, expected [rows, cols] or [batch, rows, cols].", name);
        int m = a.Shape[transA ? -1 : -2], n = b.Shape[transB ? -2 : -1];
        int[] shape = a.Shape.Rank == 3 || b.Shape.Rank == 3 ? [Math.Max(BatchOf(a.Shape), BatchOf(b.Shape)), m, n] : [m, n];
        var c = Compute(a.Device, new Shape(shape), y => Gemm.MatMul(a.Value, b.Value, y, transA, transB, alpha));
        bool needA = b.RequiresGrad, needB = a.RequiresGrad;
        return Recorder.Result(Recorder.ShouldRecord(a, b), c, KeepEither(needA, a, needB, b), (g, grads, s) =>
        {
            var (av, bv) = Kept(s, needA, needB);
            // dop(A) = alpha · dC · op(B)ᵀ and dop(B) = alpha · op(A)ᵀ · dC, transposed back where the operand was.
            if (bv is not null)
                grads.Accumulate(a, transA ? Product(bv, g, transB, true, alpha, a.Shape) : Product(g, bv, false, !transB, alpha, a.Shape));
            if (av is not null)
                grads.Accumulate(b, transB ? Product(g, av, true, transA, alpha, b.Shape) : Product(av, g, !transA, false, alpha, b.Shape));
        });
    }

    private static int BatchOf(Shape shape) => shape.Rank == 3 ? shape[0] : 1;

    /// <summary>
    /// The gradient alpha · op(left) · op(right) of an operand of shape <paramref name="target"/>: one product per
    /// batch, summed over the batch when the operand was shared by a batch of several.
    /// </summary>
    private static Tensor Product(Tensor left, Tensor right, bool transLeft, bool transRight, float alpha, Shape target)
    {
        int rows = target[-2], cols = target[-1];
        bool batched = left.Shape.Rank == 3 || right.Shape.Rank == 3;
        int batch = Math.Max(BatchOf(left.Shape), BatchOf(right.Shape));
        Shape productShape = batched ? new(batch, rows, cols) : new(rows, cols);
        var product = Compute(left.Device, productShape, p => Gemm.MatMul(left, right, p, transLeft, transRight, alpha));
        if (BatchOf(target) == batch) return Reshaped(product, target);
        using (product)
        using (var perBatch = product.Reshape(batch, rows * cols))
        using (var total = Reduce.SumToLastDim(perBatch))
            return total.Reshape(target.ToArray());
    }

    /// <summary><paramref name="t"/> with <paramref name="shape"/> (same storage), releasing <paramref name="t"/>.</summary>
    private static Tensor Reshaped(Tensor t, Shape shape)
    {
        using (t) return t.Reshape(shape.ToArray());
    }
}
