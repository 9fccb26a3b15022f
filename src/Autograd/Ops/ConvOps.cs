using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

public static partial class Ops
{
    /// <summary>
    /// 2-D convolution of channels-last x [N, H, W, Cin] with weight [Cout, kh, kw, Cin] (F32, or F16 frozen only) and
    /// an optional bias [Cout]: y [N, Hout, Wout, Cout]. A frozen weight costs only the input gradient in backward.
    /// </summary>
    public static Var Conv2d(Var x, Var weight, Var? bias, Conv2dParams parameters) =>
        Weighted(nameof(Conv2d), x, weight, bias, (xv, w, b) => Kernels.Conv2d.Forward(xv, w, b, parameters), new WeightedBackward(
            (dy, w, dx) => Kernels.Conv2d.BackwardInput(dy, w, parameters, dx),
            (dy, xv, dw) => Kernels.Conv2d.BackwardWeight(xv, dy, parameters, dw, accumulate: false),
            (dy, db) => Kernels.Conv2d.BackwardBias(dy, db, accumulate: false)));

    /// <summary>
    /// <paramref name="residual"/> + Conv2d(x, weight, bias): a resnet block's second conv and its shortcut. When
    /// nothing records a backward and the bias (if any) has the weight's dtype, the residual is added in the
    /// convolution's own pass (<see cref="Kernels.Conv2d.ForwardWithResidual"/>);
    /// otherwise it is the two ops.
    /// </summary>
    public static Var Conv2dAdd(Var x, Var weight, Var? bias, Conv2dParams parameters, Var residual)
    {
        if (Recorder.ShouldRecord(x, weight, bias, residual) || (bias is not null && bias.Value.DType != weight.Value.DType))
        {
            using var y = Conv2d(x, weight, bias, parameters);
            return Add(residual, y);
        }
        return Var.Result(Kernels.Conv2d.ForwardWithResidual(x.Value, weight.Value, bias?.Value, parameters, residual.Value), false);
    }
}
