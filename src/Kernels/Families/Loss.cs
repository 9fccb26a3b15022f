using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The mean squared error of the ε-prediction objective, forward and backward, optionally weighted per sample
/// (min-SNR-γ weighting). For prediction and target of shape [N, ..] with M elements per sample (n = N·M in all)
/// and weights w [N]: loss = (1/N) Σ_n w_n · (1/M) Σ_j (prediction − target)²_{n,j}, i.e. the mean over samples of
/// each sample's weighted mean squared error; without weights, w_n = 1 and it is mean((prediction − target)²).
/// The forward reuses the deterministic chunked reduction of <see cref="Reduce"/>.
/// </summary>
public static class Loss
{
    /// <summary>The (per-sample weighted) mean squared error as a one-element F32 tensor; weights, if given, are [N].</summary>
    public static Tensor Mse(Tensor prediction, Tensor target, Tensor? sampleWeights = null)
    {
        const string op = nameof(Loss) + "." + nameof(Mse);
        Check(op, prediction, target, sampleWeights);
        var output = Tensor.Empty(prediction.Device, DType.F32, 1);
        forward.Launch(prediction.Device, new MseArgs(prediction, target, sampleWeights, output));
        return output;
    }

    /// <summary>
    /// gradPrediction = upstream · 2·w_n·(prediction − target)/n, where <paramref name="upstream"/> is the loss's
    /// one-element gradient on the device and w_n = 1 without weights. The gradient with respect to the target is
    /// its negation. gradPrediction may alias prediction or target.
    /// </summary>
    public static void MseBackward(Tensor prediction, Tensor target, Tensor upstream, Tensor gradPrediction, Tensor? sampleWeights = null)
    {
        const string op = nameof(Loss) + "." + nameof(MseBackward);
        Check(op, prediction, target, sampleWeights);
        Require.DType(op, nameof(upstream), upstream, DType.F32);
        Require.SameDevice(op, nameof(upstream), upstream, prediction.Device);
        if (upstream.Count != 1)
            throw new ArgumentException($"{op}: upstream has shape {upstream.Shape}, expected a single element (the loss's gradient).", nameof(upstream));
        Require.Like(op, nameof(gradPrediction), gradPrediction, prediction, nameof(prediction));
        backward.Launch(prediction.Device, new MseBackwardArgs(prediction, target, sampleWeights, upstream, gradPrediction));
    }

    private static void Check(string op, Tensor prediction, Tensor target, Tensor? sampleWeights)
    {
        Require.DType(op, nameof(prediction), prediction, DType.F32);
        Require.Like(op, nameof(target), target, prediction, nameof(prediction));
        if (sampleWeights is null) return;
        Require.DType(op, nameof(sampleWeights), sampleWeights, DType.F32);
        Require.SameDevice(op, nameof(sampleWeights), sampleWeights, prediction.Device);
        Require.Shape(op, nameof(sampleWeights), sampleWeights, prediction.Shape[0]);
    }

    private static SampleWeightTerm Weights(Tensor prediction, Tensor weights) =>
        new(weights.F32View, prediction.Count / prediction.Shape[0]);

    private readonly record struct MseArgs(Tensor Prediction, Tensor Target, Tensor? Weights, Tensor Output);

    private readonly record struct MseBackwardArgs(Tensor Prediction, Tensor Target, Tensor? Weights, Tensor Upstream, Tensor Grad);

    private static readonly OpDispatcher<MseArgs> forward =
        new(new KernelVariant<MseArgs>("mse-forward-portable", KernelTier.Portable, (_, _) => true, LaunchForward));

    private static readonly OpDispatcher<MseBackwardArgs> backward =
        new(new KernelVariant<MseBackwardArgs>("mse-backward-portable", KernelTier.Portable, (_, _) => true, LaunchBackward));

    private static void LaunchForward(Device device, MseArgs a)
    {
        var error = new SquaredErrorTerm(a.Prediction.F32View, a.Target.F32View);
        int n = a.Prediction.Count;
        if (a.Weights is null)
            Reduce.SumTerms(device, error, n, 1f / n, a.Output);
        else
            Reduce.SumTerms(device, new WeightedSquaredErrorTerm(error, Weights(a.Prediction, a.Weights)), n, 1f / n, a.Output);
    }

    private static void LaunchBackward(Device device, MseBackwardArgs a)
    {
        var extent = new Index1D(a.Grad.Count);
        float scale = 2f / a.Prediction.Count;
        var (p, t, up, g) = (a.Prediction.F32View, a.Target.F32View, a.Upstream.F32View, a.Grad.F32View);
        if (a.Weights is null)
            device.Accelerator.LaunchAutoGrouped(MseBackwardKernel, device.Stream, extent, p, t, default(OneTerm), up, scale, g);
        else
            device.Accelerator.LaunchAutoGrouped(MseBackwardKernel, device.Stream, extent, p, t, Weights(a.Prediction, a.Weights), up, scale, g);
    }

    /// <summary>grad[i] = scale · upstream[0] · weight.At(i) · (prediction[i] − target[i]).</summary>
    [Kernel(typeof(OneTerm)), Kernel(typeof(SampleWeightTerm))]
    internal static void MseBackwardKernel<TWeight>(Index1D i, ArrayView<float> prediction, ArrayView<float> target, TWeight weight,
        ArrayView<float> upstream, float scale, ArrayView<float> grad)
        where TWeight : struct, IElementTerm
        => grad[i] = scale * upstream[0] * weight.At(i) * (prediction[i] - target[i]);
}
