using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The C-LoRA self-regulariser of one adapted matrix (docs/clora-spec.md §2), fused: with ΔW = up·down and
/// M = P⊙P, reg = λ·Σ_ij M_ij·ΔW_ij², ∂reg/∂up = 2λ·(M⊙ΔW)·downᵀ and ∂reg/∂down = 2λ·upᵀ·(M⊙ΔW), without ever
/// storing the [out, in] product: one thread per row i recomputes row i of ΔW (rank-length dot products) for its
/// share of reg and grad_up[i, :], one thread per column j recomputes column j for grad_down[:, j]. The row
/// shares are summed deterministically (<see cref="Reduce.Sum"/>).
/// </summary>
public static class CLoraRegularizer
{
    /// <summary>Ranks handled per pass over a row or column: each thread keeps this many gradient sums in registers.</summary>
    internal const int RankChunk = 16;

    /// <summary>Validated operands of one regulariser call.</summary>
    internal readonly record struct RegularizerArgs(
        Tensor Up, Tensor Down, Tensor Mask, Tensor RegOut, Tensor GradUp, Tensor GradDown, float Lambda, bool Accumulate);

    /// <summary>The extents and scalars the kernels share, passed as one value; Accumulate is 1 to add into the outputs, 0 to overwrite them.</summary>
    internal readonly record struct RegularizerDims(int Out, int In, int Rank, float TwoLambda, int Accumulate)
    {
        /// <summary>ΔW_ij = Σ_k up[i, k]·down[k, j].</summary>
        public float Delta(ArrayView<float> up, ArrayView<float> down, int i, int j)
        {
            float d = 0f;
            for (int k = 0; k < Rank; k++) d += up[i * Rank + k] * down[k * In + j];
            return d;
        }

        /// <summary>The new value of a gradient element: 2λ·sum, added to the old value when accumulating.</summary>
        public float Store(float old, float sum) => Accumulate == 1 ? old + TwoLambda * sum : TwoLambda * sum;
    }

    private static readonly OpDispatcher<RegularizerArgs> dispatcher =
        new(new KernelVariant<RegularizerArgs>("clora-reg-portable", KernelTier.Portable, (_, _) => true, LaunchPortable));

    /// <summary>
    /// Computes λ·Σ M⊙(up·down)² into <paramref name="regOut"/> (one element) and its gradients into
    /// <paramref name="gradUp"/> [out, r] and <paramref name="gradDown"/> [r, in]. With <paramref name="accumulate"/>
    /// every output is added to (sum the 32 layers into one reg, add to the diffusion loss's gradients), otherwise
    /// overwritten. All operands are F32 on one device; the outputs must not share storage with the inputs.
    /// </summary>
    /// <param name="up">The output-side factor [out, r] (zero at the start of a task, making reg and both gradients 0).</param>
    /// <param name="down">The input-side factor [r, in].</param>
    /// <param name="mask">M = P⊙P [out, in], P the sum of the past tasks' up·down.</param>
    /// <param name="regOut">One element: receives λ·Σ M⊙(up·down)².</param>
    /// <param name="gradUp">[out, r]: receives ∂reg/∂up.</param>
    /// <param name="gradDown">[r, in]: receives ∂reg/∂down.</param>
    /// <param name="lambda">λ, applied to the value and to both gradients.</param>
    /// <param name="accumulate">True to add into the three outputs, false to overwrite them.</param>
    /// <exception cref="ArgumentException">A dtype, shape or device does not match, or λ is not finite.</exception>
    public static void Compute(
        Tensor up, Tensor down, Tensor mask, Tensor regOut, Tensor gradUp, Tensor gradDown, float lambda, bool accumulate)
    {
        const string op = nameof(CLoraRegularizer) + "." + nameof(Compute);
        ArgumentNullException.ThrowIfNull(up);
        Require.DType(op, nameof(up), up, DType.F32);
        Require.Rank(op, nameof(up), up, 2);
        int outFeatures = up.Shape[0], rank = up.Shape[1];
        var device = up.Device;
        foreach (var (name, t) in new[] { (nameof(down), down), (nameof(mask), mask), (nameof(regOut), regOut), (nameof(gradUp), gradUp), (nameof(gradDown), gradDown) })
        {
            ArgumentNullException.ThrowIfNull(t, name);
            Require.DType(op, name, t, DType.F32);
            Require.SameDevice(op, name, t, device);
        }
        Require.Rank(op, nameof(down), down, 2);
        if (down.Shape[0] != rank)
            throw new ArgumentException($"{op}: down has shape {down.Shape}, expected [{rank}, in] to match up {up.Shape}.", nameof(down));
        int inFeatures = down.Shape[1];
        Require.Shape(op, nameof(mask), mask, outFeatures, inFeatures);
        Require.Shape(op, nameof(regOut), regOut, 1);
        Require.SameShape(op, nameof(gradUp), gradUp, up, nameof(up));
        Require.SameShape(op, nameof(gradDown), gradDown, down, nameof(down));
        if (!float.IsFinite(lambda)) throw new ArgumentException($"{op}: lambda {lambda} is not finite.", nameof(lambda));
        dispatcher.Launch(device, new RegularizerArgs(up, down, mask, regOut, gradUp, gradDown, lambda, accumulate));
    }

    private static void LaunchPortable(Device device, RegularizerArgs a)
    {
        var dims = new RegularizerDims(a.Up.Shape[0], a.Down.Shape[1], a.Up.Shape[1], 2f * a.Lambda, a.Accumulate ? 1 : 0);
        var acc = device.Accelerator;
        using var rowReg = Tensor.Empty(device, DType.F32, dims.Out);
        acc.LaunchAutoGrouped(RowsKernel, device.Stream, new Index1D(dims.Out),
            a.Up.F32View, a.Down.F32View, a.Mask.F32View, dims, a.GradUp.F32View, rowReg.F32View);
        acc.LaunchAutoGrouped(ColumnsKernel, device.Stream, new Index1D(dims.In),
            a.Up.F32View, a.Down.F32View, a.Mask.F32View, dims, a.GradDown.F32View);
        using var sum = Reduce.Sum(rowReg);
        acc.LaunchAutoGrouped(FinishRegKernel, device.Stream, new Index1D(1), sum.F32View, a.Lambda, dims.Accumulate, a.RegOut.F32View);
    }

    /// <summary>
    /// One thread per row i of ΔW: rowReg[i] = Σ_j M_ij ΔW_ij², grad_up[i, k] = 2λ·Σ_j M_ij ΔW_ij down[k, j],
    /// <see cref="RankChunk"/> ranks per pass over the row.
    /// </summary>
    [Kernel]
    internal static void RowsKernel(
        Index1D i, ArrayView<float> up, ArrayView<float> down, ArrayView<float> mask, RegularizerDims d,
        ArrayView<float> gradUp, ArrayView<float> rowReg)
    {
        var sums = LocalMemory.Allocate<float>(RankChunk);
        float reg = 0f;
        for (int first = 0; first < d.Rank; first += RankChunk)
        {
            int count = Math.Min(RankChunk, d.Rank - first);
            for (int t = 0; t < count; t++) sums[t] = 0f;
            for (int j = 0; j < d.In; j++)
            {
                float delta = d.Delta(up, down, i, j);
                float weighted = mask[i * d.In + j] * delta;
                if (first == 0) reg += weighted * delta;
                for (int t = 0; t < count; t++) sums[t] += weighted * down[(first + t) * d.In + j];
            }
            for (int t = 0; t < count; t++)
            {
                int at = i * d.Rank + first + t;
                gradUp[at] = d.Store(gradUp[at], sums[t]);
            }
        }
        rowReg[i] = reg;
    }

    /// <summary>
    /// One thread per column j of ΔW: grad_down[k, j] = 2λ·Σ_i M_ij ΔW_ij up[i, k], <see cref="RankChunk"/> ranks per
    /// pass over the column.
    /// </summary>
    [Kernel]
    internal static void ColumnsKernel(
        Index1D j, ArrayView<float> up, ArrayView<float> down, ArrayView<float> mask, RegularizerDims d,
        ArrayView<float> gradDown)
    {
        var sums = LocalMemory.Allocate<float>(RankChunk);
        for (int first = 0; first < d.Rank; first += RankChunk)
        {
            int count = Math.Min(RankChunk, d.Rank - first);
            for (int t = 0; t < count; t++) sums[t] = 0f;
            for (int i = 0; i < d.Out; i++)
            {
                float weighted = mask[i * d.In + j] * d.Delta(up, down, i, j);
                for (int t = 0; t < count; t++) sums[t] += weighted * up[i * d.Rank + first + t];
            }
            for (int t = 0; t < count; t++)
            {
                int at = (first + t) * d.In + j;
                gradDown[at] = d.Store(gradDown[at], sums[t]);
            }
        }
    }

    /// <summary>One thread: reg ← λ·Σ rows (added to the old value when accumulating).</summary>
    [Kernel]
    internal static void FinishRegKernel(Index1D i, ArrayView<float> sum, float lambda, int accumulate, ArrayView<float> reg)
        => reg[i] = accumulate == 1 ? reg[i] + lambda * sum[i] : lambda * sum[i];
}
