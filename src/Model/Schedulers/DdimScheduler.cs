namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>
/// diffusers' DDIMScheduler (Song et al. 2020): x_{t−δ} = √ᾱ_{t−δ}·x̂₀ + √(1 − ᾱ_{t−δ} − σ²)·ε̂ + σ·z with
/// σ = η·√((1−ᾱ_{t−δ})/(1−ᾱ_t)·(1 − ᾱ_t/ᾱ_{t−δ})) and δ = T div n. Past t = 0 it uses final_alpha_cumprod
/// (1 when set_alpha_to_one, else ᾱ₀). Defaults: leading spacing, set_alpha_to_one and clip_sample true.
/// </summary>
public sealed class DdimScheduler : Scheduler
{
    private readonly PredictionType prediction;
    private readonly TimestepSpacing spacing;
    private readonly float finalAlphaCumprod;
    private readonly float? clipRange;

    /// <summary>A DDIM scheduler; <paramref name="eta"/> = 0 is deterministic, 1 is DDPM-like and needs a noise source.</summary>
    /// <exception cref="ArgumentException">An unsupported config value (thresholding, a prediction type, a spacing) or η &lt; 0.</exception>
    public DdimScheduler(SchedulerConfig config, float eta = 0f) : base(config)
    {
        if (config.Thresholding) throw ConfigError("thresholding is not supported.");
        if (!(eta >= 0)) throw new ArgumentOutOfRangeException(nameof(eta), eta, "DDIM η must be ≥ 0.");
        Eta = eta;
        prediction = PredictionTypes.Parse(config.PredictionType, "DDIM",
            PredictionType.Epsilon, PredictionType.VPrediction, PredictionType.Sample);
        spacing = TimestepSpacings.Parse(config.TimestepSpacing, TimestepSpacing.Leading);
        finalAlphaCumprod = config.SetAlphaToOne ?? true ? 1f : Schedule.AlphasCumprod[0];
        clipRange = config.ClipSample ?? true ? (float)config.ClipSampleRange : null;
    }

    /// <summary>The noise weight η.</summary>
    public float Eta { get; }

    public override string DisplayName => "DDIM";

    protected override double[] ComputeTimesteps(int steps) =>
        TimestepSpacings.Descending(spacing, Schedule.TrainTimesteps, steps, Config.StepsOffset, roundLinspace: true);

    protected override StepResult StepCore(float[] modelOutput, int stepIndex, float[] sample, INoiseSource? noise)
    {
        int t = TimestepAt(stepIndex);
        int prev = t - Schedule.TrainTimesteps / InferenceSteps;
        float alpha = Schedule.AlphasCumprod[t], alphaPrev = Schedule.AlphaCumprodOr(prev, finalAlphaCumprod);
        float beta = 1f - alpha, betaPrev = 1f - alphaPrev;
        float sqrtAlpha = MathF.Sqrt(alpha), sqrtBeta = MathF.Sqrt(beta);

        var x0 = Predictions.OriginalFromAlpha(prediction, modelOutput, sample, sqrtAlpha, sqrtBeta);
        var eps = Predictions.EpsilonFromAlpha(prediction, modelOutput, sample, x0, sqrtAlpha, sqrtBeta);
        if (clipRange is { } r)
            for (int i = 0; i < x0.Length; i++) x0[i] = Math.Clamp(x0[i], -r, r);

        float variance = betaPrev / beta * (1f - alpha / alphaPrev);
        float std = Eta * MathF.Sqrt(variance);
        float direction = MathF.Sqrt(1f - alphaPrev - std * std), sqrtAlphaPrev = MathF.Sqrt(alphaPrev);
        var z = Eta > 0 ? DrawNoise(noise, sample) : null;
        var prevSample = new float[sample.Length];
        for (int i = 0; i < prevSample.Length; i++)
        {
            prevSample[i] = sqrtAlphaPrev * x0[i] + direction * eps[i];
            if (z is not null) prevSample[i] += std * z[i];
        }
        return new StepResult(prevSample, x0);
    }
}
