namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>
/// The k-diffusion schedulers of diffusers (Euler, Euler ancestral, LMS): x = x₀ + σ·ε, the model sees
/// x/√(σ² + 1), and the step walks the sigma ladder <see cref="Sigmas"/> (n values, then 0). Sigmas are
/// interpolated at the timesteps (<c>np.interp</c>, float64, then float32); with Karras sigmas the ladder is
/// Karras' ramp between the first and last of those, and the timesteps become the fractional
/// <see cref="SigmaSchedule.SigmaToTimestep"/> of each. Default spacing: linspace.
/// </summary>
public abstract class SigmaScheduler : Scheduler
{
    private readonly TimestepSpacing spacing;
    private float[] sigmas = [];

    /// <summary>Reads the prediction type (from <paramref name="supported"/>) and the spacing.</summary>
    protected SigmaScheduler(SchedulerConfig config, bool karras, string name, params PredictionType[] supported) : base(config)
    {
        if (config.InterpolationType != "linear")
            throw ConfigError($"interpolation_type '{config.InterpolationType}' is not supported (linear).");
        Karras = karras;
        Prediction = PredictionTypes.Parse(config.PredictionType, name, supported);
        spacing = TimestepSpacings.Parse(config.TimestepSpacing, TimestepSpacing.Linspace);
        SigmaSchedule = new SigmaSchedule(Schedule);
    }

    /// <summary>Whether the sigma ladder is Karras et al.'s (ρ = 7).</summary>
    public bool Karras { get; }

    /// <summary>The training sigmas.</summary>
    public SigmaSchedule SigmaSchedule { get; }

    /// <summary>σ for each step, then a final 0 (float32, as diffusers stores them).</summary>
    public IReadOnlyList<float> Sigmas => sigmas;

    /// <summary>max σ for linspace and trailing spacing, else √(max σ² + 1) (diffusers' choice for leading).</summary>
    public override float InitNoiseSigma
    {
        get
        {
            if (sigmas.Length == 0) throw new InvalidOperationException($"{DisplayName}: call SetTimesteps first.");
            float max = sigmas.Max();
            return spacing == TimestepSpacing.Leading ? MathF.Sqrt(max * max + 1f) : max;
        }
    }

    protected PredictionType Prediction { get; }

    /// <summary>sample / √(σ_i² + 1).</summary>
    public override float[] ScaleModelInput(float[] sample, int stepIndex)
    {
        base.ScaleModelInput(sample, stepIndex);
        float sigma = sigmas[stepIndex];
        float scale = MathF.Sqrt(sigma * sigma + 1f);
        var scaled = new float[sample.Length];
        for (int i = 0; i < scaled.Length; i++) scaled[i] = sample[i] / scale;
        return scaled;
    }

    /// <summary>diffusers' k-diffusion add_noise: x₀ + noise·σ_i, in float32.</summary>
    public override float[] AddNoiseAtStep(float[] original, float[] noise, int stepIndex)
    {
        CheckStepIndex(stepIndex);
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(noise);
        if (noise.Length != original.Length)
            throw new ArgumentException($"add_noise: noise has {noise.Length} values, the sample {original.Length}.", nameof(noise));
        float sigma = sigmas[stepIndex];
        var noisy = new float[original.Length];
        for (int i = 0; i < noisy.Length; i++) noisy[i] = original[i] + noise[i] * sigma;
        return noisy;
    }

    protected override double[] ComputeTimesteps(int steps)
    {
        // np.float32 timesteps; linspace keeps its fractions.
        var timesteps = TimestepSpacings.Descending(spacing, Schedule.TrainTimesteps, steps, Config.StepsOffset, roundLinspace: false)
            .Select(t => (double)(float)t).ToArray();
        var ladder = timesteps.Select(SigmaSchedule.Interpolate).ToArray();
        if (Karras)
        {
            ladder = SigmaSchedule.Karras(ladder[0], ladder[^1], steps);
            timesteps = [.. ladder.Select(SigmaSchedule.SigmaToTimestep)];
        }
        sigmas = [.. ladder.Select(s => (float)s), 0f];
        return timesteps;
    }

    /// <summary>x̂₀ at step <paramref name="stepIndex"/>.</summary>
    protected float[] PredictOriginal(float[] modelOutput, int stepIndex, float[] sample) =>
        Predictions.OriginalFromSigma(Prediction, modelOutput, sample, sigmas[stepIndex]);
}
