namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>
/// diffusers' PNDMScheduler in its PLMS form (skip_prk_steps, as SD 1.x ships it; crowsonkb's PLMS sampler): a
/// linear multistep over the last four ε outputs (1, 2, 3 and 4-step Adams–Bashforth weights), pushed through
/// formula (9) of the PNDM paper. The first step is taken twice: the schedule repeats its second timestep, and the
/// second call re-steps from the first sample with the mean of both outputs. Past t = 0 it uses
/// final_alpha_cumprod (default ᾱ₀, set_alpha_to_one false). Default spacing: leading.
/// </summary>
public sealed class PndmScheduler : Scheduler
{
    private const int Order = 4;
    private readonly PredictionType prediction;
    private readonly TimestepSpacing spacing;
    private readonly float finalAlphaCumprod;
    private readonly List<float[]> ets = [];
    private float[]? firstSample;
    private int counter;

    /// <summary>A PLMS scheduler.</summary>
    /// <exception cref="ArgumentException">skip_prk_steps is false (the Runge–Kutta warm-up is not implemented), or an unsupported prediction type or spacing.</exception>
    public PndmScheduler(SchedulerConfig config) : base(config)
    {
        if (!config.SkipPrkSteps)
            throw ConfigError("skip_prk_steps must be true: only PNDM's PLMS form is implemented (SD 1.x configs set it).");
        prediction = PredictionTypes.Parse(config.PredictionType, "PNDM", PredictionType.Epsilon, PredictionType.VPrediction);
        spacing = TimestepSpacings.Parse(config.TimestepSpacing, TimestepSpacing.Leading);
        finalAlphaCumprod = config.SetAlphaToOne ?? false ? 1f : Schedule.AlphasCumprod[0];
    }

    public override string DisplayName => "PLMS";

    public override void Reset()
    {
        ets.Clear();
        firstSample = null;
        counter = 0;
    }

    /// <summary>The n timesteps noisiest first, with the second one repeated: [t₀, t₁, t₁, t₂, …].</summary>
    protected override double[] ComputeTimesteps(int steps)
    {
        var t = TimestepSpacings.Descending(spacing, Schedule.TrainTimesteps, steps, Config.StepsOffset, roundLinspace: true);
        return steps == 1 ? t : [t[0], t[1], .. t[1..]];
    }

    protected override StepResult StepCore(float[] modelOutput, int stepIndex, float[] sample, INoiseSource? noise)
    {
        int timestep = TimestepAt(stepIndex);
        int stride = Schedule.TrainTimesteps / InferenceSteps;
        int prev = timestep - stride;
        if (counter != 1)
        {
            if (ets.Count == Order) ets.RemoveAt(0);
            ets.Add(modelOutput);
        }
        else
        {
            prev = timestep;
            timestep += stride;
        }

        float[] eps;
        if (ets.Count == 1 && counter == 0)
        {
            eps = modelOutput;
            firstSample = sample;
        }
        else if (ets.Count == 1 && counter == 1)
        {
            eps = Combine(modelOutput.Length, i => (modelOutput[i] + ets[^1][i]) / 2f);
            sample = firstSample!;
            firstSample = null;
        }
        else
        {
            eps = Extrapolate();
        }
        counter++;
        return new StepResult(PreviousSample(sample, timestep, prev, eps), null);
    }

    /// <summary>The Adams–Bashforth combination of the stored outputs, newest first, as diffusers writes it.</summary>
    private float[] Extrapolate()
    {
        var e = Enumerable.Range(1, ets.Count).Select(k => ets[^k]).ToArray();
        return ets.Count switch
        {
            2 => Combine(e[0].Length, i => (3f * e[0][i] - e[1][i]) / 2f),
            3 => Combine(e[0].Length, i => (23f * e[0][i] - 16f * e[1][i] + 5f * e[2][i]) / 12f),
            _ => Combine(e[0].Length, i => (float)(1.0 / 24) * (55f * e[0][i] - 59f * e[1][i] + 37f * e[2][i] - 9f * e[3][i])),
        };
    }

    private static float[] Combine(int length, Func<int, float> value)
    {
        var result = new float[length];
        for (int i = 0; i < length; i++) result[i] = value(i);
        return result;
    }

    /// <summary>
    /// PNDM formula (9): x_prev = √(ᾱ_prev/ᾱ_t)·x − (ᾱ_prev − ᾱ_t)·ε / (ᾱ_t·√(1−ᾱ_prev) + √(ᾱ_t(1−ᾱ_t)ᾱ_prev)).
    /// </summary>
    private float[] PreviousSample(float[] sample, int timestep, int prev, float[] eps)
    {
        float alpha = Schedule.AlphasCumprod[timestep], alphaPrev = Schedule.AlphaCumprodOr(prev, finalAlphaCumprod);
        float beta = 1f - alpha, betaPrev = 1f - alphaPrev;
        if (prediction == PredictionType.VPrediction)
            eps = Predictions.EpsilonFromV(eps, sample, MathF.Sqrt(alpha), MathF.Sqrt(beta));
        float sampleCoeff = MathF.Sqrt(alphaPrev / alpha);
        float denominator = alpha * MathF.Sqrt(betaPrev) + MathF.Sqrt(alpha * beta * alphaPrev);
        float difference = alphaPrev - alpha;
        var result = new float[sample.Length];
        for (int i = 0; i < result.Length; i++) result[i] = sampleCoeff * sample[i] - difference * eps[i] / denominator;
        return result;
    }
}
