namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>
/// A denoising scheduler with diffusers 0.21.4's semantics: <see cref="SetTimesteps"/>, then for each step index i
/// <c>ScaleModelInput(x, i)</c> → model → <c>Step(output, i, x)</c>. Steps are addressed by their index in
/// <see cref="Timesteps"/>, which is what diffusers' stateful schedulers resolve a timestep to.
/// Latents stay on the host as float arrays (4×64×64 per image is small; the pipeline copies them to and from the
/// device once per step), and every step is computed in float32 with torch's order of operations — scalar
/// coefficients rounded to float as torch's 0-dim tensors are, then one rounding per elementwise op — so results
/// match the reference to about an ulp.
/// </summary>
public abstract class Scheduler
{
    private double[] timesteps = [];

    /// <summary>Builds the training schedule of <paramref name="config"/>.</summary>
    protected Scheduler(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        Schedule = new NoiseSchedule(config);
    }

    public SchedulerConfig Config { get; }

    /// <summary>Betas and ᾱ of the training process.</summary>
    public NoiseSchedule Schedule { get; }

    /// <summary>The sampler's name as AUTOMATIC1111 writes it in PNG parameters ("Euler a", "DPM++ 2M Karras"…).</summary>
    public abstract string DisplayName { get; }

    /// <summary>The steps requested by the last <see cref="SetTimesteps"/> (0 before).</summary>
    public int InferenceSteps { get; private set; }

    /// <summary>
    /// The model timesteps, noisiest first. Integers, except Euler and LMS with Karras sigmas, whose timesteps are
    /// fractional (diffusers feeds them to the UNet as floats). PNDM's PLMS repeats one (n + 1 entries).
    /// </summary>
    public IReadOnlyList<double> Timesteps => timesteps;

    /// <summary>The standard deviation of the initial latent noise.</summary>
    public virtual float InitNoiseSigma => 1f;

    /// <summary>Places <paramref name="steps"/> inference steps and clears the multistep history.</summary>
    /// <exception cref="ArgumentOutOfRangeException">steps ≤ 0 or steps &gt; num_train_timesteps.</exception>
    public void SetTimesteps(int steps)
    {
        if (steps <= 0 || steps > Schedule.TrainTimesteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps,
                $"inference steps must be in [1, num_train_timesteps = {Schedule.TrainTimesteps}].");
        InferenceSteps = steps;
        timesteps = ComputeTimesteps(steps);
        Reset();
    }

    /// <summary>
    /// The model input for step <paramref name="stepIndex"/>: <paramref name="sample"/> itself for the
    /// alpha-parameterised schedulers, sample/√(σ² + 1) for the sigma-based ones.
    /// </summary>
    public virtual float[] ScaleModelInput(float[] sample, int stepIndex)
    {
        CheckStepIndex(stepIndex);
        ArgumentNullException.ThrowIfNull(sample);
        return sample;
    }

    /// <summary>
    /// One reverse step from <see cref="Timesteps"/>[<paramref name="stepIndex"/>]: x_{t−1} from the model output
    /// and x_t. Multistep schedulers remember earlier outputs, so call it once per index, in order.
    /// <paramref name="noise"/> is required by the stochastic ones.
    /// </summary>
    /// <exception cref="ArgumentException">Lengths disagree, or noise is needed and missing.</exception>
    /// <exception cref="InvalidOperationException"><see cref="SetTimesteps"/> was not called.</exception>
    public StepResult Step(float[] modelOutput, int stepIndex, float[] sample, INoiseSource? noise = null)
    {
        CheckStepIndex(stepIndex);
        ArgumentNullException.ThrowIfNull(modelOutput);
        ArgumentNullException.ThrowIfNull(sample);
        if (modelOutput.Length != sample.Length || sample.Length == 0)
            throw new ArgumentException(
                $"{DisplayName} step: model output has {modelOutput.Length} values, sample {sample.Length}.", nameof(modelOutput));
        return StepCore(modelOutput, stepIndex, sample, noise);
    }

    /// <summary>
    /// <paramref name="original"/> noised to the level of step <paramref name="stepIndex"/>, as diffusers' image-to-image
    /// pipeline starts (<c>scheduler.add_noise(init_latents, noise, timesteps[t_start])</c>): for the alpha-parameterised
    /// schedulers (DDIM, PNDM, DDPM, and DPM-Solver, whose 0.21.4 add_noise is DDPM's) √ᾱ_t·x₀ + √(1 − ᾱ_t)·noise at the
    /// step's integer timestep; the sigma-based ones override it with x₀ + σ_i·noise. <paramref name="original"/> and
    /// <paramref name="noise"/> may hold several equal-sized samples.
    /// </summary>
    /// <exception cref="ArgumentException">Lengths disagree.</exception>
    public virtual float[] AddNoiseAtStep(float[] original, float[] noise, int stepIndex)
    {
        CheckStepIndex(stepIndex);
        return Schedule.AddNoise(original, noise, [TimestepAt(stepIndex)]);
    }

    /// <summary>Forgets the multistep history (PLMS ε history, DPM-Solver outputs, LMS derivatives).</summary>
    public virtual void Reset()
    {
    }

    /// <summary>The timesteps for <paramref name="steps"/> inference steps; may also set per-step state (sigmas).</summary>
    protected abstract double[] ComputeTimesteps(int steps);

    /// <summary>The step itself, with arguments already checked.</summary>
    protected abstract StepResult StepCore(float[] modelOutput, int stepIndex, float[] sample, INoiseSource? noise);

    /// <summary>An error about an unsupported or invalid config value; the message names the key.</summary>
    protected static ArgumentException ConfigError(string message) => new($"scheduler config: {message}", "config");

    /// <summary>Timesteps[stepIndex] as an integer training timestep.</summary>
    protected int TimestepAt(int stepIndex) => (int)timesteps[stepIndex];

    /// <summary>Standard-normal noise shaped like <paramref name="sample"/>, or a clear error when none was given.</summary>
    protected float[] DrawNoise(INoiseSource? noise, float[] sample)
    {
        if (noise is null)
            throw new ArgumentException($"{DisplayName} step: this scheduler adds noise, so a noise source is required.", nameof(noise));
        var result = new float[sample.Length];
        noise.NextStandardNormal(result);
        return result;
    }

    /// <summary>Throws unless <see cref="SetTimesteps"/> was called and <paramref name="stepIndex"/> is one of its steps.</summary>
    protected void CheckStepIndex(int stepIndex)
    {
        if (timesteps.Length == 0) throw new InvalidOperationException($"{DisplayName}: call SetTimesteps before stepping.");
        if ((uint)stepIndex >= (uint)timesteps.Length)
            throw new ArgumentOutOfRangeException(nameof(stepIndex), stepIndex, $"step index must be in [0, {timesteps.Length}).");
    }
}
