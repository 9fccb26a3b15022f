namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>
/// diffusers' LMSDiscreteScheduler (k-diffusion's <c>sample_lms</c>, order 4): keeps the last four derivatives
/// d = (x − x̂₀)/σ and steps x_{i+1} = x + Σ_j w_j·d_{i−j}, the weights from <see cref="LmsCoefficients"/>, with
/// order min(i + 1, 4) (so the first steps are lower order).
/// </summary>
public sealed class LmsScheduler : SigmaScheduler
{
    private const int MaxOrder = 4;
    private readonly List<float[]> derivatives = [];

    /// <summary>An LMS scheduler; <paramref name="karras"/> overrides use_karras_sigmas when given.</summary>
    /// <exception cref="ArgumentException">An unsupported prediction type, spacing or interpolation type.</exception>
    public LmsScheduler(SchedulerConfig config, bool? karras = null)
        : base(config, karras ?? config.UseKarrasSigmas, "LMS", PredictionType.Epsilon, PredictionType.VPrediction, PredictionType.Sample)
    {
    }

    public override string DisplayName => Karras ? "LMS Karras" : "LMS";

    public override void Reset() => derivatives.Clear();

    protected override StepResult StepCore(float[] modelOutput, int stepIndex, float[] sample, INoiseSource? noise)
    {
        float sigma = Sigmas[stepIndex];
        var x0 = PredictOriginal(modelOutput, stepIndex, sample);
        var derivative = new float[sample.Length];
        for (int i = 0; i < derivative.Length; i++) derivative[i] = (sample[i] - x0[i]) / sigma;
        if (derivatives.Count == MaxOrder) derivatives.RemoveAt(0);
        derivatives.Add(derivative);

        // diffusers zips the weights with the stored derivatives, newest first, so a run started mid-schedule
        // uses only as many terms as it has derivatives.
        int order = Math.Min(stepIndex + 1, MaxOrder), terms = Math.Min(order, derivatives.Count);
        var sum = new float[sample.Length];
        for (int j = 0; j < terms; j++)
        {
            float weight = (float)LmsCoefficients.Weight(Sigmas, stepIndex, order, j);
            var d = derivatives[^(j + 1)];
            for (int i = 0; i < sum.Length; i++) sum[i] = j == 0 ? weight * d[i] : sum[i] + weight * d[i];
        }
        var prevSample = new float[sample.Length];
        for (int i = 0; i < prevSample.Length; i++) prevSample[i] = sample[i] + sum[i];
        return new StepResult(prevSample, x0);
    }
}
