namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>
/// The k-diffusion view of a <see cref="NoiseSchedule"/>, shared by Euler, Euler ancestral, LMS and DPM-Solver:
/// training sigmas σ_t = √((1 − ᾱ_t)/ᾱ_t) (float32, as torch computes them), their interpolation at fractional
/// timesteps (<c>np.interp</c>), Karras et al.'s sigma ramp, and the inverse map from a sigma to a fractional
/// timestep by linear interpolation of log σ (diffusers' <c>_sigma_to_t</c>).
/// </summary>
public sealed class SigmaSchedule
{
    private readonly float[] sigmas;
    private readonly float[] logSigmas;

    /// <summary>The sigmas of <paramref name="schedule"/>.</summary>
    public SigmaSchedule(NoiseSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        sigmas = [.. schedule.AlphasCumprod.Select(a => MathF.Sqrt((1f - a) / a))];
        // numpy's float32 log may be a SIMD approximation; this is the correctly rounded value.
        logSigmas = [.. sigmas.Select(s => (float)Math.Log(s))];
    }

    /// <summary>σ_t for t in [0, T), increasing with t.</summary>
    public IReadOnlyList<float> TrainingSigmas => sigmas;

    /// <summary>σ at a (possibly fractional) timestep, linearly interpolated in float64 as <c>np.interp</c>.</summary>
    public double Interpolate(double timestep) => NumPy.Interp(timestep, sigmas);

    /// <summary>
    /// Karras et al. (2022) eq. 5: <paramref name="count"/> sigmas (a^(1/ρ) + r_i·(b^(1/ρ) − a^(1/ρ)))^ρ for
    /// r = linspace(0, 1, count), from a = <paramref name="from"/> to b = <paramref name="to"/>, in float64.
    /// </summary>
    public static double[] Karras(double from, double to, int count, double rho = 7.0)
    {
        double fromInv = Math.Pow(from, 1 / rho), toInv = Math.Pow(to, 1 / rho);
        return [.. NumPy.Linspace(0, 1, count).Select(r => Math.Pow(fromInv + r * (toInv - fromInv), rho))];
    }

    /// <summary>
    /// The fractional timestep whose log σ matches: the last knot j with log σ_j ≤ log σ (0 if none, at most T − 2),
    /// then t = (1 − w)·j + w·(j + 1), w = (log σ_j − log σ)/(log σ_j − log σ_{j+1}) clipped to [0, 1]; the knot
    /// difference is a float32 subtraction, as in diffusers.
    /// </summary>
    public double SigmaToTimestep(double sigma)
    {
        double logSigma = Math.Log(sigma);
        int low = 0;
        for (int k = 0; k < logSigmas.Length; k++)
            if (logSigma - logSigmas[k] >= 0) low = k;
        low = Math.Min(low, logSigmas.Length - 2);
        float lowLog = logSigmas[low], highLog = logSigmas[low + 1];
        double w = Math.Clamp((lowLog - logSigma) / (lowLog - highLog), 0, 1);
        return (1 - w) * low + w * (low + 1);
    }
}
