using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

/// <summary>Differentiable ops over <see cref="Var"/>: each runs its kernel and, when recording, its backward.</summary>
public static partial class Ops
{
    /// <summary>a + b (same shape).</summary>
    public static Var Add(Var a, Var b)
    {
        var y = Tensor.Empty(a.Device, DType.F32, a.Shape.ToArray());
        Elementwise.Add(a.Value, b.Value, y);
        return Recorder.Result(Recorder.ShouldRecord(a, b), y, [], (g, grads, _) =>
        {
            if (a.RequiresGrad) grads.Accumulate(a, g.Share());
            if (b.RequiresGrad) grads.Accumulate(b, g.Share());
        });
    }

    /// <summary>alpha · x.</summary>
    public static Var Scale(Var x, float alpha)
    {
        var y = Tensor.Empty(x.Device, DType.F32, x.Shape.ToArray());
        Elementwise.Scale(x.Value, alpha, y);
        return Recorder.Result(Recorder.ShouldRecord(x), y, [], (g, grads, _) =>
        {
            var dx = Tensor.Empty(g.Device, DType.F32, g.Shape.ToArray());
            Elementwise.Scale(g, alpha, dx);
            grads.Accumulate(x, dx);
        });
    }

    /// <summary>The sum of all elements, as a one-element Var.</summary>
    public static Var Sum(Var x)
    {
        var y = Reduce.Sum(x.Value);
        // d(sum)/dx_i = the upstream scalar, broadcast on the device.
        return Recorder.Result(Recorder.ShouldRecord(x), y, [], (g, grads, _) =>
            grads.Accumulate(x, Compute(g.Device, x.Shape, dx => Elementwise.FillFromScalar(dx, g))));
    }

    /// <summary>The mean of all elements, as a one-element Var.</summary>
    public static Var Mean(Var x)
    {
        var y = Reduce.Mean(x.Value);
        float inverse = 1f / x.Value.Count;
        return Recorder.Result(Recorder.ShouldRecord(x), y, [], (g, grads, _) =>
            grads.Accumulate(x, Compute(g.Device, x.Shape, dx => Elementwise.FillFromScalar(dx, g, inverse))));
    }
}
