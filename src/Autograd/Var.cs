using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

/// <summary>
/// A tensor in the autograd graph: its value, whether gradients flow to it, and (for a trainable leaf) its
/// accumulated gradient. A frozen parameter (<see cref="RequiresGrad"/> false) never gets a gradient buffer, and
/// ops skip its weight-gradient work. Disposing a Var releases its value and gradient; tapes keep their own
/// references to what backward needs, so intermediate results may be disposed as soon as the caller is done.
/// </summary>
public sealed class Var : IDisposable
{
    private Tensor? grad;

    private Var(Tensor value, bool requiresGrad, bool isLeaf, string? name)
    {
        Value = value;
        RequiresGrad = requiresGrad;
        IsLeaf = isLeaf;
        Name = name;
    }

    /// <summary>The forward value.</summary>
    public Tensor Value { get; }

    /// <summary>True when gradients are computed for this Var (a trainable leaf, or a result that depends on one).</summary>
    public bool RequiresGrad { get; }

    /// <summary>True for a Var created by the user (a parameter or an input), false for an op's result.</summary>
    public bool IsLeaf { get; }

    /// <summary>A name for messages (parameters carry their checkpoint key).</summary>
    public string? Name { get; }

    /// <summary>The gradient accumulated into this leaf by backward passes since the last <see cref="ZeroGrad"/>; null if none.</summary>
    public Tensor? Grad => grad;

    public Shape Shape => Value.Shape;

    public Device Device => Value.Device;

    /// <summary>A trainable leaf: backward accumulates into <see cref="Grad"/>. Takes ownership of <paramref name="value"/>.</summary>
    public static Var Parameter(Tensor value, string? name = null) => new(value, true, true, name);

    /// <summary>A leaf that receives no gradient (an input, or a frozen weight). Takes ownership of <paramref name="value"/>.</summary>
    public static Var Constant(Tensor value, string? name = null) => new(value, false, true, name);

    /// <summary>An op's result; <paramref name="requiresGrad"/> when any input requires grad and a tape records.</summary>
    internal static Var Result(Tensor value, bool requiresGrad) => new(value, requiresGrad, false, null);

    /// <summary>Releases the accumulated gradient (the next backward starts from zero).</summary>
    public void ZeroGrad()
    {
        grad?.Dispose();
        grad = null;
    }

    /// <summary>Adds <paramref name="g"/> into the leaf's gradient, taking ownership of <paramref name="g"/>.</summary>
    internal void AccumulateGrad(Tensor g) => grad = grad is null ? g : GradientMap.Summed(grad, g);

    public override string ToString() => $"Var {Name ?? "(result)"} {Value.DType} {Shape}{(RequiresGrad ? " requires-grad" : "")}";

    public void Dispose()
    {
        Value.Dispose();
        ZeroGrad();
    }
}
