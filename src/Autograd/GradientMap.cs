using System.Runtime.CompilerServices;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

/// <summary>
/// Gradients in flight during one backward pass. A leaf's gradient goes straight into <see cref="Var.Grad"/>; an
/// intermediate result's gradient is held (and summed over its uses) until its producing node runs.
/// A gradient handed in may share storage with another (a pass-through op such as Add gives its output gradient to
/// both inputs), so none is ever written in place: a second contribution is summed into a new tensor.
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
        pending[target] = pending.Remove(target, out var existing) ? Summed(existing, grad) : grad;
    }

    /// <summary>A new tensor a + b; releases a and b (either may share storage with another gradient, so neither is written).</summary>
    internal static Tensor Summed(Tensor a, Tensor b)
    {
        try
        {
            var sum = Tensor.Empty(a.Device, DType.F32, a.Shape.ToArray());
            Elementwise.Add(a, b, sum);
            return sum;
        }
        finally
        {
            a.Dispose();
            b.Dispose();
        }
    }

    internal Tensor? Take(Var output) => pending.Remove(output, out var g) ? g : null;

    public void Dispose()
    {
        foreach (var g in pending.Values) g.Dispose();
        pending.Clear();
    }
}
