using System.Runtime.CompilerServices;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

/// <summary>
/// Gradients in flight during one backward pass. A leaf's gradient goes straight into <see cref="Var.Grad"/>; an
/// intermediate result's gradient is held (and summed over its uses) until its producing node runs.
/// </summary>
public sealed class GradientMap : IDisposable
{
    private readonly Dictionary<Var, Tensor> pending = new(ReferenceEqualityComparer.Instance);

    /// <summary>Adds <paramref name="grad"/> to <paramref name="target"/>'s gradient, taking ownership of it; ignored if the Var needs none.</summary>
    public void Accumulate(Var target, Tensor grad)
    {
        if (!target.RequiresGrad)
        {
            grad.Dispose();
            return;
        }
        if (!grad.Shape.Equals(target.Shape))
            throw new InvalidOperationException($"backward produced a gradient of shape {grad.Shape} for {target}.");
        if (target.IsLeaf)
        {
            target.AccumulateGrad(grad);
            return;
        }
        if (pending.TryGetValue(target, out var existing))
        {
            Elementwise.Add(existing, grad, existing);
            grad.Dispose();
        }
        else pending[target] = grad;
    }

    internal Tensor? Take(Var output) => pending.Remove(output, out var g) ? g : null;

    public void Dispose()
    {
        foreach (var g in pending.Values) g.Dispose();
        pending.Clear();
    }
}
