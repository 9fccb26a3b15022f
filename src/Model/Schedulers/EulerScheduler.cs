namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>
/// diffusers' EulerDiscreteScheduler (Karras et al. 2022, Algorithm 2 without churn): d = (x − x̂₀)/σ_i,
/// x_{i+1} = x + d·(σ_{i+1} − σ_i).
/// </summary>
public sealed class EulerScheduler : SigmaScheduler
{
    /// <summary>An Euler scheduler; <paramref name="karras"/> overrides use_karras_sigmas when given.</summary>
    /// <exception cref="ArgumentException">An unsupported prediction type, spacing or interpolation type.</exception>
    public EulerScheduler(SchedulerConfig config, bool? karras = null)
        : base(config, karras ?? config.UseKarrasSigmas, "Euler", PredictionType.Epsilon, PredictionType.VPrediction, PredictionType.Sample)
    {
    }

    public override string DisplayName => Karras ? "Euler Karras" : "Euler";

    protected override StepResult StepCore(float[] modelOutput, int stepIndex, float[] sample, INoiseSource? noise)
    {
        float sigma = Sigmas[stepIndex], dt = Sigmas[stepIndex + 1] - sigma;
        var x0 = PredictOriginal(modelOutput, stepIndex, sample);
        var prevSample = new float[sample.Length];
        for (int i = 0; i < prevSample.Length; i++) prevSample[i] = sample[i] + (sample[i] - x0[i]) / sigma * dt;
        return new StepResult(prevSample, x0);
    }
}
