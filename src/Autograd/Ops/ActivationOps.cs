using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

public static partial class Ops
{
    /// <summary>f(x) element-wise for an activation <paramref name="kind"/>; backward keeps x.</summary>
    public static Var Activation(Var x, ActivationKind kind)
    {
        var y = Compute(x.Device, x.Shape, o => Kernels.Activation.Forward(kind, x.Value, o));
        return Recorder.Result(Recorder.ShouldRecord(x), y, [x.Value.Share()], (g, grads, s) =>
            grads.Accumulate(x, Compute(g.Device, x.Shape, dx => Kernels.Activation.Backward(kind, s[0], g, dx))));
    }

    /// <summary>GELU (exact, erf-based).</summary>
    public static Var Gelu(Var x) => Activation(x, ActivationKind.Gelu);

    /// <summary>Quick GELU, x·σ(1.702x) (CLIP).</summary>
    public static Var QuickGelu(Var x) => Activation(x, ActivationKind.QuickGelu);

    /// <summary>SiLU, x·σ(x).</summary>
    public static Var Silu(Var x) => Activation(x, ActivationKind.Silu);

    /// <summary>GEGLU: x [.., 2F] split into (hidden, gate) halves → hidden · GELU(gate) [.., F].</summary>
    public static Var Geglu(Var x)
    {
        var y = Compute(x.Device, WithLastAxis(x.Shape, x.Shape[-1] / 2), o => Kernels.Activation.Geglu(x.Value, o));
        return Recorder.Result(Recorder.ShouldRecord(x), y, [x.Value.Share()], (g, grads, s) =>
            grads.Accumulate(x, Compute(g.Device, x.Shape, dx => Kernels.Activation.GegluBackward(s[0], g, dx))));
    }

    /// <summary><paramref name="shape"/> with its last axis replaced by <paramref name="last"/>.</summary>
    private static Shape WithLastAxis(Shape shape, int last) => new([.. shape.ToArray()[..^1], last]);
}
