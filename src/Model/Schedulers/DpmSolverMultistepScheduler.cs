namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>
/// diffusers' DPMSolverMultistepScheduler with algorithm_type dpmsolver++ (Lu et al. 2022), solver_order 1 or 2:
/// "DPM++ 2M". It works in λ_t = log α_t − log σ_t (α_t = √ᾱ_t, σ_t = √(1 − ᾱ_t), float32) on x̂₀ predictions:
/// first order x_t = (σ_t/σ_s)·x − α_t(e^{−h} − 1)·D₀, second order adds −½α_t(e^{−h} − 1)·D₁ (midpoint) or
/// α_t((e^{−h} − 1)/h + 1)·D₁ (heun), D₁ = (m₀ − m₁)/r₀. The first step is first order, and with
/// lower_order_final and fewer than 15 steps so is the last. Timesteps: linspace over n + 1 points, leading
/// (T div (n + 1)) or trailing, dropping the final 0; Karras sigmas map to rounded timesteps. Default spacing: linspace.
/// </summary>
public sealed class DpmSolverMultistepScheduler : Scheduler
{
    private readonly PredictionType prediction;
    private readonly TimestepSpacing spacing;
    private readonly bool heun;
    private readonly float[] alphaT;
    private readonly float[] sigmaT;
    private readonly float[] lambdaT;
    private readonly float[]?[] modelOutputs;
    private float[] sigmas = [];
    private int lowerOrderNums;

    /// <summary>A DPM-Solver++ scheduler; <paramref name="karras"/> overrides use_karras_sigmas when given.</summary>
    /// <exception cref="ArgumentException">An unsupported algorithm_type, solver_order, solver_type, prediction type, spacing or thresholding.</exception>
    public DpmSolverMultistepScheduler(SchedulerConfig config, bool? karras = null) : base(config)
    {
        if (config.Thresholding) throw ConfigError("thresholding is not supported.");
        if (config.AlgorithmType is not ("dpmsolver++" or "deis"))
            throw ConfigError($"algorithm_type '{config.AlgorithmType}' is not supported (dpmsolver++).");
        if (config.SolverOrder is not (1 or 2))
            throw ConfigError($"solver_order {config.SolverOrder} is not supported (1 or 2).");
        heun = config.SolverType switch
        {
            "midpoint" or "logrho" or "bh1" or "bh2" => false,
            "heun" => true,
            var s => throw ConfigError($"solver_type '{s}' is not one of midpoint, heun."),
        };
        if (config.VarianceType is not null) throw ConfigError($"variance_type '{config.VarianceType}' is not supported.");
        Karras = karras ?? config.UseKarrasSigmas;
        prediction = PredictionTypes.Parse(config.PredictionType, "DPM-Solver",
            PredictionType.Epsilon, PredictionType.VPrediction, PredictionType.Sample);
        spacing = TimestepSpacings.Parse(config.TimestepSpacing, TimestepSpacing.Linspace);
        SigmaSchedule = new SigmaSchedule(Schedule);
        alphaT = [.. Schedule.AlphasCumprod.Select(MathF.Sqrt)];
        sigmaT = [.. Schedule.AlphasCumprod.Select(a => MathF.Sqrt(1f - a))];
        lambdaT = [.. alphaT.Zip(sigmaT, (a, s) => MathF.Log(a) - MathF.Log(s))];
        modelOutputs = new float[]?[config.SolverOrder];
    }

    /// <summary>Whether the timesteps come from Karras et al.'s sigma ramp.</summary>
    public bool Karras { get; }

    /// <summary>The training sigmas.</summary>
    public SigmaSchedule SigmaSchedule { get; }

    /// <summary>diffusers 0.21.4's <c>sigmas</c>: the T training sigmas, or the n Karras sigmas (increasing); not used by the step.</summary>
    public IReadOnlyList<float> Sigmas => sigmas;

    public override string DisplayName => Karras ? "DPM++ 2M Karras" : "DPM++ 2M";

    public override void Reset()
    {
        Array.Clear(modelOutputs);
        lowerOrderNums = 0;
    }

    protected override double[] ComputeTimesteps(int steps)
    {
        int train = Schedule.TrainTimesteps;
        // lambda_min_clipped: the number of (flipped, increasing) λ values below the clip shortens the range.
        int lastTimestep = train - lambdaT.Count(l => l < Config.LambdaMinClipped);
        double[] timesteps = spacing switch
        {
            TimestepSpacing.Linspace => [.. NumPy.Linspace(0, lastTimestep - 1, steps + 1).Select(t => Math.Round(t)).Reverse().SkipLast(1)],
            TimestepSpacing.Leading => [.. Enumerable.Range(1, steps).Reverse().Select(i => (double)(i * (lastTimestep / (steps + 1)) + Config.StepsOffset))],
            _ => [.. NumPy.Arange(lastTimestep, 0, -(double)train / steps).Select(t => Math.Round(t) - 1)],
        };
        if (Karras)
        {
            var training = SigmaSchedule.TrainingSigmas;
            var ladder = SigmaSchedule.Karras(training[0], training[^1], steps);
            timesteps = [.. ladder.Select(s => Math.Round(SigmaSchedule.SigmaToTimestep(s))).Reverse()];
            sigmas = [.. ladder.Select(s => (float)s)];
        }
        else
        {
            sigmas = [.. SigmaSchedule.TrainingSigmas];
        }
        // np.unique(return_index) then sorted indices: the first occurrence of each value, in order.
        return [.. timesteps.Distinct()];
    }

    protected override StepResult StepCore(float[] modelOutput, int stepIndex, float[] sample, INoiseSource? noise)
    {
        int count = Timesteps.Count, t = TimestepAt(stepIndex);
        int prev = stepIndex == count - 1 ? 0 : TimestepAt(stepIndex + 1);
        bool shortRun = Config.LowerOrderFinal && count < 15;
        bool lowerOrderFinal = stepIndex == count - 1 && shortRun;

        var x0 = Predictions.OriginalFromAlpha(prediction, modelOutput, sample, alphaT[t], sigmaT[t]);
        for (int i = 0; i < modelOutputs.Length - 1; i++) modelOutputs[i] = modelOutputs[i + 1];
        modelOutputs[^1] = x0;

        var prevSample = modelOutputs.Length == 1 || lowerOrderNums < 1 || lowerOrderFinal
            ? FirstOrder(x0, t, prev, sample)
            : SecondOrder(TimestepAt(stepIndex - 1), t, prev, sample);
        if (lowerOrderNums < modelOutputs.Length) lowerOrderNums++;
        return new StepResult(prevSample, null);
    }

    /// <summary>DPM-Solver++(1), i.e. DDIM in λ, from timestep s to t: (σ_t/σ_s)·x − α_t(e^{−h} − 1)·x̂₀.</summary>
    private float[] FirstOrder(float[] x0, int s, int t, float[] sample)
    {
        float h = lambdaT[t] - lambdaT[s];
        float ratio = sigmaT[t] / sigmaT[s], coeff = alphaT[t] * (MathF.Exp(-h) - 1f);
        var result = new float[sample.Length];
        for (int i = 0; i < result.Length; i++) result[i] = ratio * sample[i] - coeff * x0[i];
        return result;
    }

    /// <summary>DPM-Solver++(2M) from the outputs at s₁ (older) and s₀ to t.</summary>
    private float[] SecondOrder(int s1, int s0, int t, float[] sample)
    {
        float[] m0 = modelOutputs[^1]!, m1 = modelOutputs[^2]!;
        float h = lambdaT[t] - lambdaT[s0], h0 = lambdaT[s0] - lambdaT[s1];
        float r0 = h0 / h, inverseR0 = 1f / r0;
        float ratio = sigmaT[t] / sigmaT[s0], expm1 = MathF.Exp(-h) - 1f, coeff = alphaT[t] * expm1;
        float coeffD1 = heun ? alphaT[t] * (expm1 / h + 1f) : 0.5f * coeff;
        var result = new float[sample.Length];
        for (int i = 0; i < result.Length; i++)
        {
            float d1 = inverseR0 * (m0[i] - m1[i]);
            float first = ratio * sample[i] - coeff * m0[i];
            result[i] = heun ? first + coeffD1 * d1 : first - coeffD1 * d1;
        }
        return result;
    }
}
