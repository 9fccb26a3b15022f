using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

public static partial class Ops
{
    /// <summary>
    /// y [.., out] = x [.., in] · weightᵀ + bias. x is F32; weight [out, in] is F32 or F16 (F16 only frozen); bias
    /// [out] is F32 or has the weight's dtype. A frozen weight costs only the input gradient in backward, and x is
    /// kept for backward only when the weight trains.
    /// </summary>
    public static Var Linear(Var x, Var weight, Var? bias = null) =>
        Weighted(nameof(Linear), x, weight, bias, (xv, w, b) => Kernels.Linear.Forward(xv, w, b), new WeightedBackward(
            (dy, w, dx) => Kernels.Linear.BackwardInput(dy, w, dx),
            (dy, xv, dw) => Kernels.Linear.BackwardWeight(dy, xv, dw),
            (dy, db) => Kernels.Linear.BackwardBias(dy, db)));

    /// <summary>The three gradient kernels of a layer with a weight and an optional bias over the last axis of its output.</summary>
    private sealed record WeightedBackward(
        Action<Tensor, Tensor, Tensor> Input,    // (dy, weight, dx)
        Action<Tensor, Tensor, Tensor> Weight,   // (dy, x, dWeight)
        Action<Tensor, Tensor> Bias);            // (dy, dBias)

    /// <summary>
    /// A layer y = f(x, weight) + bias (Linear, Conv2d): runs <paramref name="forward"/>, fusing the bias when it has
    /// the weight's dtype and adding an F32 bias to an F16 weight's output otherwise, and records a backward that
    /// runs only the gradient kernels some input needs and keeps only what they read.
    /// </summary>
    private static Var Weighted(string op, Var x, Var weight, Var? bias, Func<Tensor, Tensor, Tensor?, Tensor> forward, WeightedBackward backward)
    {
        RequireFrozenIfHalf(op, weight, nameof(weight));
        if (bias is not null) RequireFrozenIfHalf(op, bias, nameof(bias));
        bool fused = bias is null || bias.Value.DType == weight.Value.DType;
        var y = forward(x.Value, weight.Value, fused ? bias?.Value : null);
        try
        {
            if (!fused) Broadcast.AddLastDim(y, bias!.Value, y);
        }
        catch
        {
            y.Dispose();
            throw;
        }
        bool needX = weight.RequiresGrad, needWeight = x.RequiresGrad;
        return Recorder.Result(Recorder.ShouldRecord(x, weight, bias), y, KeepEither(needX, x, needWeight, weight), (g, grads, s) =>
        {
            var (xs, ws) = Kept(s, needX, needWeight);
            if (ws is not null) grads.Accumulate(x, Compute(g.Device, x.Shape, dx => backward.Input(g, ws, dx)));
            if (xs is not null) grads.Accumulate(weight, Compute(g.Device, weight.Shape, dw => backward.Weight(g, xs, dw)));
            if (bias is { RequiresGrad: true }) grads.Accumulate(bias, Compute(g.Device, bias.Shape, db => backward.Bias(g, db)));
        });
    }
}
