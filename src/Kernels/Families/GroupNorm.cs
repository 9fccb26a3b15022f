namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Group normalization of channels-last activations [N, ..spatial.., C] (e.g. [N, H, W, C] or [N, L, C]): the C
/// channels split into G groups, mean and variance per (sample, group) over all spatial positions and the group's
/// channels, then a per-channel affine γ, β, optionally followed by a fused SiLU. The kernels are
/// <see cref="ChannelNorm"/>'s; statistics are fp32 and deterministic.
/// </summary>
public static class GroupNorm
{
    private const string ForwardOp = "GroupNorm.Forward", BackwardOp = "GroupNorm.Backward";

    private static readonly OpDispatcher<NormForwardArgs> forward = new(
        new KernelVariant<NormForwardArgs>("group-norm-forward-portable", KernelTier.Portable, (_, _) => true, ChannelNorm.LaunchForward));

    private static readonly OpDispatcher<NormBackwardArgs> backward = new(
        new KernelVariant<NormBackwardArgs>("group-norm-backward-portable", KernelTier.Portable, (_, _) => true, ChannelNorm.LaunchBackward));

    /// <summary>
    /// y = γ·(x − mean)/√(var + eps) + β per group (then SiLU(y) when <paramref name="silu"/>). x is F32 of rank ≥ 2,
    /// C = its last dim is divisible by <paramref name="groups"/>; γ, β are F32 [C]. Returns y (x's shape) and the
    /// saved mean and rstd, each [N, G].
    /// </summary>
    public static NormOutput Forward(Tensor x, Tensor gamma, Tensor beta, int groups, float eps, bool silu = false)
    {
        var dims = Check(ForwardOp, x, gamma, beta, groups);
        ChannelNorm.CheckEps(ForwardOp, eps);
        var device = x.Device;
        var y = Tensor.Empty(device, DType.F32, x.Shape.ToArray());
        var mean = Tensor.Empty(device, DType.F32, dims.Samples, groups);
        var rstd = Tensor.Empty(device, DType.F32, dims.Samples, groups);
        forward.Launch(device, new NormForwardArgs(x, gamma, beta, dims, eps, silu, y, mean, rstd));
        return new NormOutput(y, mean, rstd);
    }

    /// <summary>
    /// Gradients of <see cref="Forward"/> given the output gradient <paramref name="dy"/>, the forward's input and
    /// affine parameters and its saved <paramref name="mean"/>, <paramref name="rstd"/> ([N, G]). With a fused SiLU the
    /// pre-activation is recomputed from them. Returns dx, and dγ, dβ ([C]) unless <paramref name="affineGradients"/>
    /// is false (frozen γ, β: only dx is computed).
    /// </summary>
    public static NormGradients Backward(
        Tensor dy, Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor rstd, int groups, bool silu = false,
        bool affineGradients = true)
    {
        var dims = Check(BackwardOp, x, gamma, beta, groups);
        ChannelNorm.CheckSaved(BackwardOp, dy, x, mean, rstd, [dims.Samples, groups]);
        var device = x.Device;
        var dx = Tensor.Empty(device, DType.F32, x.Shape.ToArray());
        var dgamma = affineGradients ? Tensor.Empty(device, DType.F32, dims.Channels) : null;
        var dbeta = affineGradients ? Tensor.Empty(device, DType.F32, dims.Channels) : null;
        backward.Launch(device, new NormBackwardArgs(dy, x, gamma, beta, mean, rstd, dims, silu, dx, dgamma, dbeta));
        return new NormGradients(dx, dgamma, dbeta);
    }

    private static NormDims Check(string op, Tensor x, Tensor gamma, Tensor beta, int groups)
    {
        Require.MinRank(op, nameof(x), x, 2);
        ChannelNorm.CheckAffine(op, x, gamma, beta);
        int n = x.Shape[0], c = x.Shape[-1];
        if (groups <= 0 || c % groups != 0)
            throw new ArgumentException($"{op}: groups is {groups}, expected a positive divisor of x's {c} channels ({x.Shape}).", nameof(groups));
        return new NormDims(n, x.Count / (n * c), c, groups);
    }
}
