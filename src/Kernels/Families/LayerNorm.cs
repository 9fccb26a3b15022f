namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Layer normalization over the last dim of [.., C]: mean and variance per row, then a per-channel affine γ, β.
/// It runs <see cref="ChannelNorm"/>'s kernels as a group norm with one group and one position per row.
/// </summary>
public static class LayerNorm
{
    private const string ForwardOp = "LayerNorm.Forward", BackwardOp = "LayerNorm.Backward";

    private static readonly OpDispatcher<NormForwardArgs> forward = new(
        new KernelVariant<NormForwardArgs>("layer-norm-forward-portable", KernelTier.Portable, (_, _) => true, ChannelNorm.LaunchForward));

    private static readonly OpDispatcher<NormBackwardArgs> backward = new(
        new KernelVariant<NormBackwardArgs>("layer-norm-backward-portable", KernelTier.Portable, (_, _) => true, ChannelNorm.LaunchBackward));

    /// <summary>
    /// y = γ·(x − mean)/√(var + eps) + β per row of the F32 tensor x; γ, β are F32 [C]. Returns y (x's shape) and
    /// the saved mean and rstd, shaped like x without its last dim ([1] for a single row).
    /// </summary>
    public static NormOutput Forward(Tensor x, Tensor gamma, Tensor beta, float eps)
    {
        var dims = Check(ForwardOp, x, gamma, beta);
        ChannelNorm.CheckEps(ForwardOp, eps);
        var device = x.Device;
        var y = Tensor.Empty(device, DType.F32, x.Shape.ToArray());
        var mean = Tensor.Empty(device, DType.F32, StatShape(x));
        var rstd = Tensor.Empty(device, DType.F32, StatShape(x));
        forward.Launch(device, new NormForwardArgs(x, gamma, beta, dims, eps, false, y, mean, rstd));
        return new NormOutput(y, mean, rstd);
    }

    /// <summary>
    /// Gradients of <see cref="Forward"/> given the output gradient <paramref name="dy"/>, the forward's input, γ, β
    /// and its saved per-row <paramref name="mean"/> and <paramref name="rstd"/>. Returns dx, and dγ, dβ ([C]) unless
    /// <paramref name="affineGradients"/> is false (frozen γ, β: only dx is computed).
    /// </summary>
    public static NormGradients Backward(
        Tensor dy, Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor rstd, bool affineGradients = true)
    {
        var dims = Check(BackwardOp, x, gamma, beta);
        ChannelNorm.CheckSaved(BackwardOp, dy, x, mean, rstd, StatShape(x));
        var device = x.Device;
        var dx = Tensor.Empty(device, DType.F32, x.Shape.ToArray());
        var dgamma = affineGradients ? Tensor.Empty(device, DType.F32, dims.Channels) : null;
        var dbeta = affineGradients ? Tensor.Empty(device, DType.F32, dims.Channels) : null;
        backward.Launch(device, new NormBackwardArgs(dy, x, gamma, beta, mean, rstd, dims, false, dx, dgamma, dbeta));
        return new NormGradients(dx, dgamma, dbeta);
    }

    private static NormDims Check(string op, Tensor x, Tensor gamma, Tensor beta)
    {
        ChannelNorm.CheckAffine(op, x, gamma, beta);
        int c = x.Shape[-1];
        return new NormDims(x.Count / c, 1, c, 1);
    }

    private static int[] StatShape(Tensor x) => x.Shape.Rank == 1 ? [1] : x.Shape.ToArray()[..^1];
}
