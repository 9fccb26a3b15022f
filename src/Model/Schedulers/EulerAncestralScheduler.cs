namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>
/// diffusers' EulerAncestralDiscreteScheduler (k-diffusion's <c>sample_euler_ancestral</c>, η = 1): the step to
/// σ_{i+1} splits into a deterministic part down to σ_down and fresh noise of σ_up, with
/// σ_up = √(σ_{i+1}²(σ_i² − σ_{i+1}²)/σ_i²) and σ_down = √(σ_{i+1}² − σ_up²); x_{i+1} = x + d·(σ_down − σ_i) + σ_up·z.
/// The noise comes from the caller's <see cref="INoiseSource"/> (diffusers draws it even on the last step, where σ_up = 0).
/// diffusers 0.21.4 has no Karras option for this scheduler.
/// </summary>
public sealed class EulerAncestralScheduler : SigmaScheduler
{
    /// <summary>An Euler ancestral scheduler.</summary>
    /// <exception cref="ArgumentException">An unsupported prediction type (sample is not, as in diffusers) or spacing.</exception>
    public EulerAncestralScheduler(SchedulerConfig config)
        : base(config, karras: false, "Euler a", PredictionType.Epsilon, PredictionType.VPrediction)
    {
    }

    public override string DisplayName => "Euler a";

    protected override StepResult StepCore(float[] modelOutput, int stepIndex, float[] sample, INoiseSource? noise)
    {
        float sigma = Sigmas[stepIndex], sigmaTo = Sigmas[stepIndex + 1];
        float sigmaUp = MathF.Sqrt(sigmaTo * sigmaTo * (sigma * sigma - sigmaTo * sigmaTo) / (sigma * sigma));
        float sigmaDown = MathF.Sqrt(sigmaTo * sigmaTo - sigmaUp * sigmaUp);
        float dt = sigmaDown - sigma;
        var x0 = PredictOriginal(modelOutput, stepIndex, sample);
        var z = DrawNoise(noise, sample);
        var prevSample = new float[sample.Length];
        for (int i = 0; i < prevSample.Length; i++)
        {
            float deterministic = sample[i] + (sample[i] - x0[i]) / sigma * dt;
            prevSample[i] = deterministic + z[i] * sigmaUp;
        }
        return new StepResult(prevSample, x0);
    }
}
