namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>
/// diffusers' DDPMScheduler: the training forward process (<see cref="AddNoise"/> at t drawn from
/// [0, <see cref="NoiseSchedule.TrainTimesteps"/>)) and the ancestral reverse step of Ho et al. (2020) eq. 7,
/// x_{t−δ} = (√ᾱ_{t−δ}·β̃/(1−ᾱ_t))·x̂₀ + (√α̃·(1−ᾱ_{t−δ})/(1−ᾱ_t))·x_t + σ·z with α̃ = ᾱ_t/ᾱ_{t−δ}, β̃ = 1 − α̃
/// and σ² = (1−ᾱ_{t−δ})/(1−ᾱ_t)·β̃ (fixed_small, the default) or β̃ (fixed_large). Defaults: leading spacing,
/// clip_sample true.
/// </summary>
public sealed class DdpmScheduler : Scheduler
{
    private readonly PredictionType prediction;
    private readonly TimestepSpacing spacing;
    private readonly float? clipRange;
    private readonly bool fixedLarge;

    /// <summary>A DDPM scheduler.</summary>
    /// <exception cref="ArgumentException">thresholding, or an unsupported variance_type, prediction type or spacing.</exception>
    public DdpmScheduler(SchedulerConfig config) : base(config)
    {
        if (config.Thresholding) throw ConfigError("thresholding is not supported.");
        fixedLarge = config.VarianceType switch
        {
            null or "fixed_small" => false,
            "fixed_large" => true,
            var v => throw ConfigError($"variance_type '{v}' is not one of fixed_small, fixed_large."),
        };
        prediction = PredictionTypes.Parse(config.PredictionType, "DDPM",
            PredictionType.Epsilon, PredictionType.VPrediction, PredictionType.Sample);
        spacing = TimestepSpacings.Parse(config.TimestepSpacing, TimestepSpacing.Leading);
        clipRange = config.ClipSample ?? true ? (float)config.ClipSampleRange : null;
    }

    public override string DisplayName => "DDPM";

    /// <summary>The noised latents for training: see <see cref="NoiseSchedule.AddNoise"/>.</summary>
    public float[] AddNoise(float[] x0, float[] noise, IReadOnlyList<int> timesteps) => Schedule.AddNoise(x0, noise, timesteps);

    protected override double[] ComputeTimesteps(int steps) =>
        TimestepSpacings.Descending(spacing, Schedule.TrainTimesteps, steps, Config.StepsOffset, roundLinspace: true);

    protected override StepResult StepCore(float[] modelOutput, int stepIndex, float[] sample, INoiseSource? noise)
    {
        int t = TimestepAt(stepIndex);
        int prev = t - Schedule.TrainTimesteps / InferenceSteps;
        float alpha = Schedule.AlphasCumprod[t], alphaPrev = Schedule.AlphaCumprodOr(prev, 1f);
        float beta = 1f - alpha, betaPrev = 1f - alphaPrev;
        float currentAlpha = alpha / alphaPrev, currentBeta = 1f - currentAlpha;

        var x0 = Predictions.OriginalFromAlpha(prediction, modelOutput, sample, MathF.Sqrt(alpha), MathF.Sqrt(beta));
        if (clipRange is { } r)
            for (int i = 0; i < x0.Length; i++) x0[i] = Math.Clamp(x0[i], -r, r);

        float x0Coeff = MathF.Sqrt(alphaPrev) * currentBeta / beta;
        float sampleCoeff = MathF.Sqrt(currentAlpha) * betaPrev / beta;
        var z = t > 0 ? DrawNoise(noise, sample) : null;
        float std = z is null ? 0f : MathF.Sqrt(fixedLarge ? currentBeta : Math.Max((1f - alphaPrev) / (1f - alpha) * currentBeta, 1e-20f));
        var prevSample = new float[sample.Length];
        for (int i = 0; i < prevSample.Length; i++)
        {
            prevSample[i] = x0Coeff * x0[i] + sampleCoeff * sample[i];
            if (z is not null) prevSample[i] += std * z[i];
        }
        return new StepResult(prevSample, x0);
    }
}
