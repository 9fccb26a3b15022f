using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

public static partial class Ops
{
    /// <summary>
    /// The mean squared error (per-sample weighted when <paramref name="sampleWeights"/> [N] is given, e.g. min-SNR-γ)
    /// of prediction against target, both [N, ..], as a one-element Var. The weights are data, not differentiated.
    /// </summary>
    public static Var Mse(Var prediction, Var target, Tensor? sampleWeights = null)
    {
        var y = Loss.Mse(prediction.Value, target.Value, sampleWeights);
        Tensor[] saved = [prediction.Value.Share(), target.Value.Share(), .. sampleWeights is null ? Array.Empty<Tensor>() : [sampleWeights.Share()]];
        return Recorder.Result(Recorder.ShouldRecord(prediction, target), y, saved, (g, grads, s) =>
        {
            var dp = Compute(g.Device, prediction.Shape, d => Loss.MseBackward(s[0], s[1], g, d, sampleWeights is null ? null : s[2]));
            // The target's gradient is the prediction's, negated.
            if (target.RequiresGrad) grads.Accumulate(target, Compute(g.Device, target.Shape, dt => Elementwise.Scale(dp, -1f, dt)));
            grads.Accumulate(prediction, dp);
        });
    }
}
