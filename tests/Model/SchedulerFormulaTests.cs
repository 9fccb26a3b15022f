using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Model.Schedulers;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Model;

/// <summary>The scheduler formulas the fixture does not cover, against float64 host references and hand-computed lists.</summary>
public sealed class SchedulerFormulaTests(ITestOutputHelper log)
{
    private static SchedulerConfig Sd15 => SchedulerFixture.Instance.Sd15;

    /// <summary>ᾱ from the fixture (torch float32, stored as doubles).</summary>
    private static double[] AlphasCumprod => SchedulerFixture.Instance.Doubles("alphas_cumprod");

    private static double HostSigma(int t) => Math.Sqrt((1 - AlphasCumprod[t]) / AlphasCumprod[t]);

    /// <summary>σ at a fractional timestep by linear interpolation of log σ (the curve _sigma_to_t inverts).</summary>
    private static double HostLogLinearSigma(double t)
    {
        int low = Math.Min((int)Math.Floor(t), AlphasCumprod.Length - 2);
        double w = t - low;
        return Math.Exp((1 - w) * Math.Log(HostSigma(low)) + w * Math.Log(HostSigma(low + 1)));
    }

    private static double[] HostKarras(double first, double last, int n)
    {
        double a = Math.Pow(first, 1 / 7.0), b = Math.Pow(last, 1 / 7.0);
        return [.. Enumerable.Range(0, n).Select(i => Math.Pow(a + i / (double)(n - 1) * (b - a), 7))];
    }

    [Theory]
    [InlineData("euler")]
    [InlineData("lms")]
    public void Karras_sigmas_follow_the_rho_7_ramp_and_their_timesteps_invert_log_sigma(string name)
    {
        var scheduler = (SigmaScheduler)Schedulers.Create(name, Sd15, karras: true);
        scheduler.SetTimesteps(20);
        // leading spacing, 20 steps: the ramp runs from σ(951) down to σ(1).
        var expected = HostKarras(HostSigma(951), HostSigma(1), 20);
        double error = Reference.RelativeError(scheduler.Sigmas.Take(20).ToArray(), expected);
        log.WriteLine($"{name} Karras sigmas vs float64: {error:E2}");
        Assert.True(error <= 1e-6, $"Karras sigmas relative error {error:E2}");
        Assert.Equal(0f, scheduler.Sigmas[^1]);
        for (int i = 0; i < 20; i++)
        {
            double sigmaAtT = HostLogLinearSigma(scheduler.Timesteps[i]);
            Assert.True(Math.Abs(sigmaAtT / expected[i] - 1) <= 1e-6,
                $"step {i}: σ(t = {scheduler.Timesteps[i]}) = {sigmaAtT}, Karras σ = {expected[i]}");
        }
    }

    [Fact]
    public void Dpm_solver_karras_timesteps_are_the_rounded_inverse_of_the_full_range_ramp()
    {
        var scheduler = Schedulers.Create("dpmpp-2m", Sd15, karras: true);
        scheduler.SetTimesteps(20);
        var sigmas = HostKarras(HostSigma(0), HostSigma(999), 20);
        var timesteps = scheduler.Timesteps;
        Assert.Equal(20, timesteps.Count);
        Assert.Equal(999, timesteps[0]);
        Assert.Equal(0, timesteps[^1]);
        for (int i = 0; i < 20; i++)
        {
            // The ramp runs up from σ(0); timesteps are reversed, so step i belongs to sigma 19 − i.
            double t = timesteps[i], sigma = sigmas[19 - i];
            Assert.Equal(Math.Round(t), t);
            Assert.InRange(sigma, HostLogLinearSigma(Math.Max(t - 0.5, 0)) * (1 - 1e-6), HostLogLinearSigma(Math.Min(t + 0.5, 999)) * (1 + 1e-6));
        }
    }

    public static TheoryData<string, string, int, double[]> Spacings => new()
    {
        // round(linspace(0, 999, 10)) reversed: 999·k/9 = 111·k.
        { "ddim", "linspace", 10, [999, 888, 777, 666, 555, 444, 333, 222, 111, 0] },
        // round(arange(1000, 0, −100)) − 1.
        { "ddim", "trailing", 10, [999, 899, 799, 699, 599, 499, 399, 299, 199, 99] },
        { "ddpm", "trailing", 10, [999, 899, 799, 699, 599, 499, 399, 299, 199, 99] },
        // PLMS repeats the second timestep.
        { "pndm", "trailing", 10, [999, 899, 899, 799, 699, 599, 499, 399, 299, 199, 99] },
        { "pndm", "linspace", 10, [999, 888, 888, 777, 666, 555, 444, 333, 222, 111, 0] },
        // Euler keeps linspace's fractions: 999·k/6 = 166.5·k.
        { "euler", "linspace", 7, [999, 832.5, 666, 499.5, 333, 166.5, 0] },
        { "euler", "trailing", 10, [999, 899, 799, 699, 599, 499, 399, 299, 199, 99] },
        // DPM-Solver: linspace(0, 999, 11) = 99.9·k, rounded half to even (499.5 → 500), reversed, final 0 dropped.
        { "dpmpp-2m", "linspace", 10, [999, 899, 799, 699, 599, 500, 400, 300, 200, 100] },
        { "dpmpp-2m", "trailing", 10, [999, 899, 799, 699, 599, 499, 399, 299, 199, 99] },
        // leading over n + 1 points: 1000 div 11 = 90, so 90·k + 1 for k = 10 … 1.
        { "dpmpp-2m", "leading", 10, [901, 811, 721, 631, 541, 451, 361, 271, 181, 91] },
        // leading: 100·k + steps_offset 1.
        { "ddim", "leading", 10, [901, 801, 701, 601, 501, 401, 301, 201, 101, 1] },
    };

    [Theory]
    [MemberData(nameof(Spacings))]
    public void Timestep_spacing_matches_the_diffusers_formulas(string name, string spacing, int steps, double[] expected)
    {
        var scheduler = Schedulers.Create(name, Sd15 with { TimestepSpacing = spacing });
        scheduler.SetTimesteps(steps);
        Assert.Equal(expected, scheduler.Timesteps);
    }

    [Fact]
    public void Init_noise_sigma_is_the_largest_sigma_for_linspace_and_trailing()
    {
        var scheduler = (SigmaScheduler)Schedulers.Create("euler", Sd15 with { TimestepSpacing = "trailing" });
        scheduler.SetTimesteps(10);
        Assert.Equal((float)HostSigma(999), scheduler.InitNoiseSigma, 1e-6f * scheduler.InitNoiseSigma);
        Assert.Equal(scheduler.Sigmas.Max(), scheduler.InitNoiseSigma);
    }

    [Fact]
    public void Add_noise_matches_float64_and_the_lora_gradient_fixture()
    {
        var ddpm = (DdpmScheduler)Schedulers.Create("ddpm", Sd15);
        int[] timesteps = [999, 500, 37, 0];
        var x0 = Reference.RandomNormal(4 * 37, seed: 11);
        var noise = Reference.RandomNormal(4 * 37, seed: 12);
        var expected = new double[x0.Length];
        for (int i = 0; i < x0.Length; i++)
        {
            double acp = AlphasCumprod[timesteps[i / 37]];
            expected[i] = Math.Sqrt(acp) * x0[i] + Math.Sqrt(1 - acp) * noise[i];
        }
        double error = Reference.RelativeError(ddpm.AddNoise(x0, noise, timesteps), expected);
        log.WriteLine($"add_noise vs float64: {error:E2}");
        Assert.True(error <= 1e-6, $"add_noise relative error {error:E2}");

        // The C-LoRA gradient fixture noised its latents with DDPMScheduler.add_noise at t = [500, 37] (in float64).
        using var file = SafeTensorsReader.Open(Fixtures.Path("reference", "lora_grad_f32.safetensors"));
        int[] fixtureTimesteps = file.ReadI32("timesteps");
        Assert.Equal(file.ReadF32("alphas_cumprod_t"), fixtureTimesteps.Select(t => ddpm.Schedule.AlphasCumprod[t]));
        var noisy = ddpm.AddNoise(file.ReadF32("x0"), file.ReadF32("noise"), fixtureTimesteps);
        double fixtureError = Reference.RelativeError(noisy, file.ReadF32("noisy_latents"));
        log.WriteLine($"add_noise vs lora_grad noisy_latents: {fixtureError:E2}");
        Assert.True(fixtureError <= 1e-6, $"add_noise vs fixture relative error {fixtureError:E2}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(19)]
    public void Ddpm_step_matches_float64_with_fixed_small_variance(int stepIndex)
    {
        var ddpm = Schedulers.Create("ddpm", Sd15 with { ClipSample = false });
        ddpm.SetTimesteps(20);
        var sample = Reference.RandomNormal(64, seed: 1);
        var output = Reference.RandomNormal(64, seed: 2);
        var z = Reference.RandomNormal(64, seed: 3);
        var result = ddpm.Step(output, stepIndex, sample, new FixedNoise(z));

        int t = (int)ddpm.Timesteps[stepIndex], prev = t - 50;
        double a = AlphasCumprod[t], aPrev = prev >= 0 ? AlphasCumprod[prev] : 1, currentBeta = 1 - a / aPrev;
        double std = Math.Sqrt((1 - aPrev) / (1 - a) * currentBeta);
        var x0 = new double[64];
        var expected = new double[64];
        for (int i = 0; i < 64; i++)
        {
            x0[i] = (sample[i] - Math.Sqrt(1 - a) * output[i]) / Math.Sqrt(a);
            expected[i] = Math.Sqrt(aPrev) * currentBeta / (1 - a) * x0[i] + Math.Sqrt(a / aPrev) * (1 - aPrev) / (1 - a) * sample[i] + std * z[i];
        }
        Assert.True(Reference.RelativeError(result.PredOriginalSample!, x0) <= 1e-6);
        double error = Reference.RelativeError(result.PrevSample, expected);
        log.WriteLine($"DDPM step {stepIndex} (t = {t}) vs float64: {error:E2}");
        Assert.True(error <= 1e-6, $"DDPM step relative error {error:E2}");
    }

    [Fact]
    public void Ddim_with_eta_adds_the_posterior_noise()
    {
        const float eta = 0.7f;
        var ddim = new DdimScheduler(Sd15, eta);
        ddim.SetTimesteps(20);
        var sample = Reference.RandomNormal(64, seed: 4);
        var output = Reference.RandomNormal(64, seed: 5);
        var z = Reference.RandomNormal(64, seed: 6);
        var result = ddim.Step(output, 3, sample, new FixedNoise(z));

        double a = AlphasCumprod[801], aPrev = AlphasCumprod[751];
        double std = eta * Math.Sqrt((1 - aPrev) / (1 - a) * (1 - a / aPrev));
        var expected = new double[64];
        for (int i = 0; i < 64; i++)
        {
            double x0 = (sample[i] - Math.Sqrt(1 - a) * output[i]) / Math.Sqrt(a);
            expected[i] = Math.Sqrt(aPrev) * x0 + Math.Sqrt(1 - aPrev - std * std) * output[i] + std * z[i];
        }
        double error = Reference.RelativeError(result.PrevSample, expected);
        log.WriteLine($"DDIM η = {eta} vs float64: {error:E2}");
        Assert.True(error <= 1e-6, $"DDIM η step relative error {error:E2}");
        Assert.Throws<ArgumentException>(() => ddim.Step(output, 4, sample));
    }

    /// <summary>
    /// A model that predicts v or x₀ consistently with the ε it would otherwise predict must give the same step:
    /// this checks every v_prediction and sample conversion against the epsilon path the fixture verifies.
    /// </summary>
    [Theory]
    [InlineData("ddim", "v_prediction")]
    [InlineData("ddim", "sample")]
    [InlineData("ddpm", "v_prediction")]
    [InlineData("pndm", "v_prediction")]
    [InlineData("dpmpp-2m", "v_prediction")]
    [InlineData("dpmpp-2m", "sample")]
    [InlineData("euler", "v_prediction")]
    [InlineData("euler", "sample")]
    [InlineData("euler-a", "v_prediction")]
    [InlineData("lms", "v_prediction")]
    [InlineData("lms", "sample")]
    public void Other_prediction_types_agree_with_epsilon(string name, string predictionType)
    {
        var noise = new FixedNoise(Reference.RandomNormal(64, seed: 9));
        var epsilonScheduler = Schedulers.Create(name, Sd15);
        var otherScheduler = Schedulers.Create(name, Sd15 with { PredictionType = predictionType });
        epsilonScheduler.SetTimesteps(20);
        otherScheduler.SetTimesteps(20);
        var x0 = Reference.RandomNormal(64, seed: 7);
        var eps = Reference.RandomNormal(64, seed: 8);

        // x_t and the model outputs in the scheduler's own parameterisation at step 0.
        double alpha, sigma; // x_t = alpha·x0 + sigma·eps, and the model sees alpha·x0 + sigma·eps scaled to unit α² + σ²
        if (epsilonScheduler is SigmaScheduler sigmaScheduler)
        {
            double s = sigmaScheduler.Sigmas[0];
            (alpha, sigma) = (1, s);
        }
        else
        {
            double acp = AlphasCumprod[(int)epsilonScheduler.Timesteps[0]];
            (alpha, sigma) = (Math.Sqrt(acp), Math.Sqrt(1 - acp));
        }
        double norm = Math.Sqrt(alpha * alpha + sigma * sigma), a = alpha / norm, b = sigma / norm;
        var sample = new float[64];
        var other = new float[64];
        for (int i = 0; i < 64; i++)
        {
            sample[i] = (float)(alpha * x0[i] + sigma * eps[i]);
            other[i] = predictionType == "sample" ? x0[i] : (float)(a * eps[i] - b * x0[i]);
        }
        var expected = epsilonScheduler.Step(eps, 0, sample, noise).PrevSample;
        var actual = otherScheduler.Step(other, 0, sample, noise).PrevSample;
        double error = Reference.RelativeError(actual, expected);
        log.WriteLine($"{name} {predictionType} vs epsilon: {error:E2}");
        Assert.True(error <= 1e-5, $"{name} {predictionType} relative error {error:E2}");
    }

    [Theory]
    [InlineData("pndm")]
    [InlineData("dpmpp-2m")]
    [InlineData("lms")]
    public void SetTimesteps_forgets_the_multistep_history(string name)
    {
        var scheduler = Schedulers.Create(name, Sd15);
        float[][] Run()
        {
            scheduler.SetTimesteps(20);
            var sample = Reference.RandomNormal(64, seed: 20);
            var outputs = new List<float[]>();
            for (int k = 0; k < 5; k++)
            {
                sample = scheduler.Step(Reference.RandomNormal(64, seed: 30 + k), k, sample).PrevSample;
                outputs.Add(sample);
            }
            return [.. outputs];
        }
        var first = Run();
        Assert.Equal(first, Run());
    }

    [Fact]
    public void Dpm_solver_uses_first_order_on_the_last_of_fewer_than_15_steps()
    {
        // With one remaining stored output the last step of a short run must equal a fresh first-order step.
        var scheduler = Schedulers.Create("dpmpp-2m", Sd15);
        var firstOrder = Schedulers.Create("dpmpp-2m", Sd15 with { SolverOrder = 1 });
        scheduler.SetTimesteps(5);
        firstOrder.SetTimesteps(5);
        var sample = Reference.RandomNormal(64, seed: 40);
        for (int k = 0; k < 4; k++) sample = scheduler.Step(Reference.RandomNormal(64, seed: 41 + k), k, sample).PrevSample;
        var output = Reference.RandomNormal(64, seed: 50);
        Assert.Equal(firstOrder.Step(output, 4, sample).PrevSample, scheduler.Step(output, 4, sample).PrevSample);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(4, 3)]
    [InlineData(4, 0)]
    public void Lms_weights_are_the_integrals_of_the_lagrange_basis(int order, int j)
    {
        float[] sigmas = [14.6f, 9.7f, 6.1f, 3.4f, 1.9f, 0.8f];
        int i = 3;
        double Basis(double tau)
        {
            double product = 1;
            for (int k = 0; k < order; k++)
                if (k != j) product *= (tau - sigmas[i - k]) / ((double)sigmas[i - j] - sigmas[i - k]);
            return product;
        }
        // Composite Simpson's rule is exact for cubics, so a few panels give the integral to rounding.
        const int panels = 64;
        double a = sigmas[i], h = ((double)sigmas[i + 1] - a) / panels, simpson = 0;
        for (int p = 0; p < panels; p++)
        {
            double x = a + p * h;
            simpson += h / 6 * (Basis(x) + 4 * Basis(x + h / 2) + Basis(x + h));
        }
        double weight = LmsCoefficients.Weight(sigmas, i, order, j);
        Assert.Equal(simpson, weight, Math.Abs(simpson) * 1e-12);
    }
}
