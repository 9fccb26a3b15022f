namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>
/// The training noise schedule shared by every scheduler: betas, alphas = 1 − β and ᾱ = cumprod(alphas), all float32
/// as diffusers holds them (betas from <c>torch.linspace</c> in float32, <c>betas_for_alpha_bar</c> in float64 then
/// cast; ᾱ from <c>torch.cumprod</c>, which accumulates in double on the CPU and rounds each prefix to float).
/// </summary>
public sealed class NoiseSchedule
{
    private readonly float[] betas;
    private readonly float[] alphas;
    private readonly float[] alphasCumprod;

    /// <summary>The schedule of <paramref name="config"/>: trained_betas if given, else beta_schedule over num_train_timesteps.</summary>
    /// <exception cref="ArgumentException">num_train_timesteps &lt; 1, an unknown beta_schedule, or trained_betas of the wrong length.</exception>
    public NoiseSchedule(SchedulerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        int n = config.NumTrainTimesteps;
        if (n < 1) throw new ArgumentException($"scheduler config: num_train_timesteps {n} must be ≥ 1.", nameof(config));
        if (config.RescaleBetasZeroSnr)
            throw new ArgumentException("scheduler config: rescale_betas_zero_snr is not supported.", nameof(config));
        betas = config.TrainedBetas is { } trained ? Trained(trained, n) : config.BetaSchedule switch
        {
            "linear" => TorchLinspace.Float32(config.BetaStart, config.BetaEnd, n),
            "scaled_linear" => [.. TorchLinspace.Float32(Math.Pow(config.BetaStart, 0.5), Math.Pow(config.BetaEnd, 0.5), n).Select(b => b * b)],
            "squaredcos_cap_v2" => Cosine(n),
            _ => throw new ArgumentException(
                $"scheduler config: beta_schedule '{config.BetaSchedule}' is not one of linear, scaled_linear, squaredcos_cap_v2.",
                nameof(config)),
        };
        alphas = [.. betas.Select(b => 1f - b)];
        alphasCumprod = new float[n];
        double product = 1;
        for (int t = 0; t < n; t++) alphasCumprod[t] = (float)(product *= alphas[t]);
    }

    /// <summary>Number of training timesteps T; training draws t from [0, T).</summary>
    public int TrainTimesteps => betas.Length;

    public IReadOnlyList<float> Betas => betas;

    public IReadOnlyList<float> Alphas => alphas;

    /// <summary>ᾱ_t = Π_{s ≤ t} (1 − β_s).</summary>
    public IReadOnlyList<float> AlphasCumprod => alphasCumprod;

    /// <summary>ᾱ_t, or <paramref name="final"/> for t &lt; 0 (the step past the first training timestep).</summary>
    internal float AlphaCumprodOr(int t, float final) => t >= 0 ? alphasCumprod[t] : final;

    /// <summary>
    /// The forward process q(x_t | x₀) of DDPMScheduler.add_noise: √ᾱ_t·x₀ + √(1 − ᾱ_t)·noise, in float32 as torch
    /// computes it for float32 latents (1 − ᾱ_t and both square roots rounded to float). <paramref name="x0"/> holds
    /// one equal-sized sample per entry of <paramref name="timesteps"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Lengths disagree, or a timestep is outside [0, T).</exception>
    public float[] AddNoise(float[] x0, float[] noise, IReadOnlyList<int> timesteps)
    {
        ArgumentNullException.ThrowIfNull(x0);
        ArgumentNullException.ThrowIfNull(noise);
        ArgumentNullException.ThrowIfNull(timesteps);
        if (noise.Length != x0.Length)
            throw new ArgumentException($"add_noise: noise has {noise.Length} values, x0 {x0.Length}.", nameof(noise));
        if (timesteps.Count == 0 || x0.Length % timesteps.Count != 0)
            throw new ArgumentException(
                $"add_noise: {x0.Length} values do not split into {timesteps.Count} samples, one per timestep.", nameof(timesteps));
        int per = x0.Length / timesteps.Count;
        var noisy = new float[x0.Length];
        for (int n = 0; n < timesteps.Count; n++)
        {
            int t = timesteps[n];
            if ((uint)t >= (uint)TrainTimesteps)
                throw new ArgumentException($"add_noise: timestep {t} is outside [0, {TrainTimesteps}).", nameof(timesteps));
            float a = MathF.Sqrt(alphasCumprod[t]), b = MathF.Sqrt(1f - alphasCumprod[t]);
            for (int i = n * per; i < (n + 1) * per; i++) noisy[i] = a * x0[i] + b * noise[i];
        }
        return noisy;
    }

    private static float[] Trained(IReadOnlyList<double> trained, int n) => trained.Count == n
        ? [.. trained.Select(b => (float)b)]
        : throw new ArgumentException(
            $"scheduler config: trained_betas has {trained.Count} values but num_train_timesteps is {n}.", "config");

    /// <summary>diffusers' <c>betas_for_alpha_bar</c> (Glide's cosine schedule) in float64, capped at 0.999.</summary>
    private static float[] Cosine(int n)
    {
        static double AlphaBar(double t)
        {
            double c = Math.Cos((t + 0.008) / 1.008 * Math.PI / 2);
            return c * c;
        }
        var result = new float[n];
        for (int i = 0; i < n; i++)
            result[i] = (float)Math.Min(1 - AlphaBar((i + 1) / (double)n) / AlphaBar(i / (double)n), 0.999);
        return result;
    }
}
