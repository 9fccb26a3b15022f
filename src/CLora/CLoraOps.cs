using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.CLora;

/// <summary>The C-LoRA self-regulariser as a differentiable op over the adapters' factors.</summary>
public static class CLoraOps
{
    /// <summary>
    /// λ·Σ_layers Σ_ij M_ij·(up·down)_ij² (docs/clora-spec.md §2) as a one-element Var. Each layer runs the fused
    /// <see cref="CLoraRegularizer"/> kernel once, which yields the value and both factor gradients together; the
    /// gradients are kept for backward, which scales them by the upstream gradient. Layers whose mask is null (no
    /// past tasks) are skipped; when every mask is null no kernel runs and the result is a constant 0 that adds no
    /// node to the graph. At step 0 of a task (up = 0) the value and the gradients are exactly 0.
    /// </summary>
    /// <param name="adapters">The adapters (at least one).</param>
    /// <param name="masks">M = P⊙P [out, in] for each adapter, in the same order, or null for none.</param>
    /// <param name="lambda">λ, applied to the value and its gradients.</param>
    /// <exception cref="ArgumentException">The lists differ in length or are empty, or a mask does not fit its adapter.</exception>
    public static Var Regularizer(IReadOnlyList<LoraAdapter> adapters, IReadOnlyList<Tensor?> masks, float lambda)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        ArgumentNullException.ThrowIfNull(masks);
        if (adapters.Count == 0 || masks.Count != adapters.Count)
            throw new ArgumentException($"regulariser: {masks.Count} mask(s) for {adapters.Count} adapter(s); expected one per adapter, at least one.", nameof(masks));
        var reg = Tensor.Zeros(adapters[0].Up.Device, DType.F32, 1);
        var active = Enumerable.Range(0, adapters.Count).Where(i => masks[i] is not null).ToArray();
        if (active.Length == 0) return Var.Constant(reg, "clora.regularizer");
        var inputs = active.SelectMany(i => new[] { adapters[i].Up, adapters[i].Down }).ToArray();
        var gradients = new List<Tensor>(inputs.Length);
        try
        {
            foreach (int i in active)
            {
                var (up, down) = (adapters[i].Up.Value, adapters[i].Down.Value);
                gradients.Add(Tensor.Zeros(up.Device, DType.F32, up.Shape.ToArray()));
                gradients.Add(Tensor.Zeros(down.Device, DType.F32, down.Shape.ToArray()));
                CLoraRegularizer.Compute(up, down, masks[i]!, reg, gradients[^2], gradients[^1], lambda, accumulate: true);
            }
        }
        catch
        {
            reg.Dispose();
            foreach (var g in gradients) g.Dispose();
            throw;
        }
        return Ops.Custom(reg, inputs, [.. gradients], (upstream, grads, saved) =>
        {
            for (int k = 0; k < inputs.Length; k++)
                if (inputs[k].RequiresGrad) grads.Accumulate(inputs[k], ScaledBy(saved[k], upstream));
        });
    }

    /// <summary>The regulariser of an <see cref="AdapterSet"/> with the masks of <paramref name="past"/>.</summary>
    public static Var Regularizer(AdapterSet adapters, PastDeltas past, float lambda)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        ArgumentNullException.ThrowIfNull(past);
        return Regularizer([.. adapters.Layers.Select(l => l.Adapter)], past.MasksFor(adapters), lambda);
    }

    /// <summary>x · scalar[0] as a new tensor, the one-element scalar read on the device.</summary>
    private static Tensor ScaledBy(Tensor x, Tensor scalar)
    {
        var y = Tensor.Empty(x.Device, DType.F32, x.Shape.ToArray());
        using var column = x.Reshape(x.Count, 1);
        using var result = y.Reshape(y.Count, 1);
        using var factor = scalar.Reshape(1);
        Broadcast.MulLastDim(column, factor, result);
        return y;
    }
}
