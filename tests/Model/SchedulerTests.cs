using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Model.Schedulers;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Model;

/// <summary>Parity of the six inference schedulers with diffusers 0.21.4 (reference/schedulers.json and .safetensors).</summary>
public sealed class SchedulerTests(ITestOutputHelper log)
{
    /// <summary>
    /// Bound for the three chained steps. Every step is float32 in torch's order of operations, so the outputs differ
    /// from torch by an ulp here and there (libm vs torch's vectorised log in DPM-Solver's λ, the exact LMS integral vs
    /// scipy's quadrature of a float32 integrand).
    /// </summary>
    private const double StepBound = 1e-6;

    public static TheoryData<string, string> Pairs => new()
    {
        { "DDIM", "ddim" },
        { "PNDM", "pndm" },
        { "EulerDiscrete", "euler" },
        { "EulerAncestralDiscrete", "euler-a" },
        { "DPMSolverMultistep", "dpmpp-2m" },
        { "LMSDiscrete", "lms" },
    };

    private static SchedulerFixture Fixture => SchedulerFixture.Instance;

    [Fact]
    public void Betas_and_alphas_cumprod_match_torch_float32()
    {
        var schedule = new NoiseSchedule(Fixture.Sd15);
        double betaError = Reference.RelativeError([.. schedule.Betas], Fixture.Doubles("betas"));
        double acpError = Reference.RelativeError([.. schedule.AlphasCumprod], Fixture.Doubles("alphas_cumprod"));
        log.WriteLine($"betas {betaError:E2}, alphas_cumprod {acpError:E2}");
        Assert.True(betaError <= 1e-7, $"betas relative error {betaError:E2}");
        Assert.True(acpError <= 1e-7, $"alphas_cumprod relative error {acpError:E2}");
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Timesteps_sigmas_and_init_noise_sigma_match(string key, string name)
    {
        var entry = Fixture.Entry(key);
        var scheduler = Schedulers.Create(name, Fixture.Sd15);
        foreach (int steps in new[] { 20, 50 })
        {
            scheduler.SetTimesteps(steps);
            Assert.Equal(SchedulerFixture.Array(entry.GetProperty($"timesteps_{steps}")), scheduler.Timesteps);
            double initNoise = entry.GetProperty($"init_noise_sigma_{steps}").GetDouble();
            Assert.Equal(initNoise, scheduler.InitNoiseSigma, initNoise * 1e-7);
            if (entry.TryGetProperty($"sigmas_{steps}", out var expected))
            {
                var sigmas = scheduler switch
                {
                    SigmaScheduler s => s.Sigmas,
                    DpmSolverMultistepScheduler d => d.Sigmas,
                    _ => throw new InvalidOperationException($"{key} has sigmas in the fixture"),
                };
                double error = Reference.RelativeError([.. sigmas], SchedulerFixture.Array(expected));
                log.WriteLine($"{key} sigmas_{steps}: {error:E2}");
                Assert.True(error <= 1e-6, $"{key} sigmas_{steps} relative error {error:E2}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void The_class_config_of_the_fixture_builds_the_same_scheduler(string key, string name)
    {
        var entry = Fixture.Entry(key);
        var config = SchedulerConfig.FromJson(entry.GetProperty("config")) with { ClassName = entry.GetProperty("class").GetString() };
        var fromClass = Schedulers.FromClassName(config);
        var fromName = Schedulers.Create(name, Fixture.Sd15);
        fromClass.SetTimesteps(20);
        fromName.SetTimesteps(20);
        Assert.Equal(fromName.GetType(), fromClass.GetType());
        Assert.Equal(fromName.DisplayName, fromClass.DisplayName);
        Assert.Equal(fromName.Timesteps, fromClass.Timesteps);
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Three_chained_steps_match(string key, string name)
    {
        using var file = SafeTensorsReader.Open(SchedulerFixture.TensorsPath);
        var scheduler = Schedulers.Create(name, Fixture.Sd15);
        scheduler.SetTimesteps(20);
        var sample = file.ReadF32("sample");
        for (int k = 0; k < 3; k++)
        {
            string prefix = $"{key}.step{k}.";
            var modelOutput = file.ReadF32($"model_output_{k}");
            Check(prefix + "scaled_model_input", scheduler.ScaleModelInput(sample, k));
            var noise = file.Contains(prefix + "noise") ? new FixedNoise(file.ReadF32(prefix + "noise")) : null;
            var result = scheduler.Step(modelOutput, k, sample, noise);
            Check(prefix + "prev_sample", result.PrevSample);
            if (file.Contains(prefix + "pred_original_sample"))
                Check(prefix + "pred_original_sample", result.PredOriginalSample ?? throw new InvalidOperationException($"{key} returned no x0"));
            else
                Assert.Null(result.PredOriginalSample);
            sample = result.PrevSample;
        }

        void Check(string tensor, float[] actual)
        {
            double error = Reference.RelativeError(actual, file.ReadF32(tensor));
            log.WriteLine($"{tensor}: {error:E2}");
            Assert.True(error <= StepBound, $"{tensor} relative error {error:E2} > {StepBound:E0}");
        }
    }

    [Fact]
    public void Display_names_follow_automatic1111()
    {
        var config = Fixture.Sd15;
        Assert.Equal("DDIM", Schedulers.Create("ddim", config).DisplayName);
        Assert.Equal("PLMS", Schedulers.Create("pndm", config).DisplayName);
        Assert.Equal("Euler", Schedulers.Create("euler", config).DisplayName);
        Assert.Equal("Euler Karras", Schedulers.Create("euler", config, karras: true).DisplayName);
        Assert.Equal("Euler a", Schedulers.Create("euler-a", config).DisplayName);
        Assert.Equal("DPM++ 2M", Schedulers.Create("dpmpp-2m", config).DisplayName);
        Assert.Equal("DPM++ 2M Karras", Schedulers.Create("dpmpp-2m", config, karras: true).DisplayName);
        Assert.Equal("LMS", Schedulers.Create("lms", config).DisplayName);
        Assert.Equal("LMS Karras", Schedulers.Create("lms", config, karras: true).DisplayName);
        Assert.Equal("DDPM", Schedulers.Create("ddpm", config).DisplayName);
    }
}
