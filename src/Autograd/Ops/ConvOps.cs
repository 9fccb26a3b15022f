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
}
