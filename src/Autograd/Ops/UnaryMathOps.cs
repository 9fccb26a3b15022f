using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

public static partial class Ops
{
    /// <summary>x clamped to [<paramref name="min"/>, <paramref name="max"/>]; the gradient passes where min ≤ x ≤ max (torch's rule).</summary>
    public static Var Clamp(Var x, float min, float max)
    {
        var y = Compute(x.Device, x.Shape, o => UnaryMath.Clamp(x.Value, min, max, o));
        return Recorder.Result(Recorder.ShouldRecord(x), y, [x.Value.Share()], (g, grads, s) =>
            grads.Accumulate(x, Compute(g.Device, x.Shape, dx => UnaryMath.ClampBackward(s[0], min, max, g, dx))));
    }

    /// <summary>exp(<paramref name="scale"/> · x) (e.g. a standard deviation exp(½·logvar)); backward keeps the output.</summary>
    public static Var Exp(Var x, float scale = 1f)
    {
        var y = Compute(x.Device, x.Shape, o => UnaryMath.Exp(x.Value, scale, o));
        return Recorder.Result(Recorder.ShouldRecord(x), y, [y.Share()], (g, grads, s) =>
            grads.Accumulate(x, Compute(g.Device, x.Shape, dx =>
            {
                Elementwise.Mul(g, s[0], dx);
                Elementwise.Scale(dx, scale, dx);
            })));
    }
}
