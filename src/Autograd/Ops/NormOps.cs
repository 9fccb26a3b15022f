using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

public static partial class Ops
{
    /// <summary>
    /// Group normalization of channels-last x [N, .., C] in <paramref name="groups"/> groups with affine γ, β [C],
    /// optionally followed by a fused SiLU. Backward reuses the forward's saved mean and rstd; frozen γ, β get no
    /// gradient kernel.
    /// </summary>
    public static Var GroupNorm(Var x, Var gamma, Var beta, int groups, float eps, bool silu = false) =>
        Normalized(x, gamma, beta, Kernels.GroupNorm.Forward(x.Value, gamma.Value, beta.Value, groups, eps, silu),
            (dy, s, affine) => Kernels.GroupNorm.Backward(dy, s[0], s[1], s[2], s[3], s[4], groups, silu, affine));

    /// <summary>Layer normalization over the last axis of x [.., C] with affine γ, β [C].</summary>
    public static Var LayerNorm(Var x, Var gamma, Var beta, float eps) =>
        Normalized(x, gamma, beta, Kernels.LayerNorm.Forward(x.Value, gamma.Value, beta.Value, eps),
            (dy, s, affine) => Kernels.LayerNorm.Backward(dy, s[0], s[1], s[2], s[3], s[4], affine));

    /// <summary>
    /// Wraps a normalization's output and records its backward, which gets dy, the saved [x, γ, β, mean, rstd] and
    /// whether γ or β trains.
    /// </summary>
    private static Var Normalized(Var x, Var gamma, Var beta, NormOutput output, Func<Tensor, Tensor[], bool, NormGradients> backward)
    {
        Tensor[] saved = [x.Value.Share(), gamma.Value.Share(), beta.Value.Share(), output.Mean, output.Rstd];
        return Recorder.Result(Recorder.ShouldRecord(x, gamma, beta), output.Output, saved, (g, grads, s) =>
        {
            var r = backward(g, s, gamma.RequiresGrad || beta.RequiresGrad);
            grads.Accumulate(x, r.Dx);
            if (r.DGamma is not null) grads.Accumulate(gamma, r.DGamma);
            if (r.DBeta is not null) grads.Accumulate(beta, r.DBeta);
        });
    }
}
