using IlgpuDiffusion.Model.Schedulers;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Model;

/// <summary>Reading scheduler_config.json and refusing bad configs, steps and names with errors that name the field.</summary>
public sealed class SchedulerConfigTests
{
    private static SchedulerConfig Sd15 => SchedulerFixture.Instance.Sd15;

    [Fact]
    public void The_tiny_model_config_loads_and_builds_its_pndm_scheduler()
    {
        var config = SchedulerConfig.Load(Fixtures.Path("tiny-sd", "scheduler", "scheduler_config.json"));
        Assert.Equal("PNDMScheduler", config.ClassName);
        Assert.Equal(1000, config.NumTrainTimesteps);
        Assert.Equal(0.00085, config.BetaStart);
        Assert.Equal(0.012, config.BetaEnd);
        Assert.Equal("scaled_linear", config.BetaSchedule);
        Assert.Equal(1, config.StepsOffset);
        Assert.True(config.SkipPrkSteps);
        Assert.False(config.SetAlphaToOne);
        Assert.False(config.ClipSample);
        Assert.Null(config.TrainedBetas);
        Assert.Equal("leading", config.TimestepSpacing);
        var scheduler = Schedulers.FromClassName(config);
        Assert.IsType<PndmScheduler>(scheduler);
        Assert.Equal("PLMS", scheduler.DisplayName);
    }

    [Fact]
    public void Unknown_keys_are_ignored_and_python_infinity_is_read()
    {
        var config = SchedulerConfig.Parse("""
            {"_class_name": "DPMSolverMultistepScheduler", "_diffusers_version": "0.21.4", "lambda_min_clipped": -Infinity,
             "some_future_key": [1, {"x": NaN}], "note": "Infinity stays a string here", "variance_type": null}
            """);
        Assert.Equal(double.NegativeInfinity, config.LambdaMinClipped);
        Assert.Null(config.VarianceType);
        Assert.Equal(new SchedulerConfig().BetaSchedule, config.BetaSchedule);
    }

    [Fact]
    public void Class_dependent_defaults_apply_when_keys_are_missing()
    {
        // The original SD 1.5 config has no timestep_spacing: DDIM then defaults to leading, Euler to linspace.
        var config = SchedulerConfig.Parse("""{"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "steps_offset": 1}""");
        var ddim = Schedulers.Create("ddim", config);
        var euler = Schedulers.Create("euler", config);
        ddim.SetTimesteps(10);
        euler.SetTimesteps(10);
        Assert.Equal(901, ddim.Timesteps[0]);
        Assert.Equal(999, euler.Timesteps[0]);
    }

    [Theory]
    [InlineData("""{"num_train_timesteps": "1000"}""", "num_train_timesteps")]
    [InlineData("""{"num_train_timesteps": 1000.5}""", "num_train_timesteps")]
    [InlineData("""{"beta_start": true}""", "beta_start")]
    [InlineData("""{"skip_prk_steps": 1}""", "skip_prk_steps")]
    [InlineData("""{"trained_betas": [0.1, "x"]}""", "trained_betas")]
    [InlineData("""{"timestep_spacing": 3}""", "timestep_spacing")]
    [InlineData("""[1, 2]""", "JSON object")]
    [InlineData("""{"beta_start": """, "not valid JSON")]
    public void Malformed_json_is_refused_naming_the_key(string json, string named)
    {
        var e = Assert.Throws<InvalidDataException>(() => SchedulerConfig.Parse(json));
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void A_missing_config_file_is_named()
    {
        var path = Path.Combine(Path.GetTempPath(), "idf-no-such-folder", "scheduler_config.json");
        var e = Assert.Throws<FileNotFoundException>(() => SchedulerConfig.Load(path));
        Assert.Contains(path, e.Message);
    }

    public static TheoryData<string, SchedulerConfig, string> BadConfigs => new()
    {
        { "ddim", Sd15 with { BetaSchedule = "cosine" }, "beta_schedule" },
        { "euler", Sd15 with { TimestepSpacing = "uniform" }, "timestep_spacing" },
        { "euler-a", Sd15 with { PredictionType = "sample" }, "prediction_type" },
        { "pndm", Sd15 with { PredictionType = "sample" }, "prediction_type" },
        { "lms", Sd15 with { PredictionType = "x0" }, "prediction_type" },
        { "pndm", Sd15 with { SkipPrkSteps = false }, "skip_prk_steps" },
        { "ddim", Sd15 with { NumTrainTimesteps = 0 }, "num_train_timesteps" },
        { "ddim", Sd15 with { TrainedBetas = [0.1, 0.2] }, "trained_betas" },
        { "ddim", Sd15 with { Thresholding = true }, "thresholding" },
        { "ddim", Sd15 with { RescaleBetasZeroSnr = true }, "rescale_betas_zero_snr" },
        { "ddpm", Sd15 with { VarianceType = "learned" }, "variance_type" },
        { "euler", Sd15 with { InterpolationType = "log_linear" }, "interpolation_type" },
        { "dpmpp-2m", Sd15 with { SolverType = "bogus" }, "solver_type" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void Unsupported_config_values_are_refused_naming_the_key(string name, SchedulerConfig config, string key)
    {
        var e = Assert.Throws<ArgumentException>(() => Schedulers.Create(name, config));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void Dpm_solver_from_its_class_refuses_what_it_does_not_implement()
    {
        var config = Sd15 with { ClassName = "DPMSolverMultistepScheduler" };
        Assert.Contains("algorithm_type", Assert.Throws<ArgumentException>(() => Schedulers.FromClassName(config with { AlgorithmType = "sde-dpmsolver++" })).Message);
        Assert.Contains("solver_order", Assert.Throws<ArgumentException>(() => Schedulers.FromClassName(config with { SolverOrder = 3 })).Message);
        Assert.Contains("_class_name", Assert.Throws<ArgumentException>(() => Schedulers.FromClassName(config with { ClassName = "UniPCMultistepScheduler" })).Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(1001)]
    public void Steps_outside_one_to_the_training_steps_are_refused(int steps)
    {
        foreach (var name in Schedulers.Names)
        {
            var scheduler = Schedulers.Create(name, Sd15);
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.SetTimesteps(steps));
            Assert.Equal("steps", e.ParamName);
            Assert.Contains("num_train_timesteps = 1000", e.Message);
        }
    }

    [Fact]
    public void Unknown_names_and_karras_where_unsupported_are_refused()
    {
        Assert.Contains("ddim, pndm, euler, euler-a, dpmpp-2m, lms, ddpm",
            Assert.Throws<ArgumentException>(() => Schedulers.Create("heun", Sd15)).Message);
        foreach (var name in new[] { "ddim", "pndm", "euler-a", "ddpm" })
            Assert.Equal("karras", Assert.Throws<ArgumentException>(() => Schedulers.Create(name, Sd15, karras: true)).ParamName);
    }

    [Fact]
    public void Misuse_of_step_is_reported()
    {
        var scheduler = Schedulers.Create("euler-a", Sd15);
        var x = Reference.RandomNormal(16, seed: 1);
        Assert.Throws<InvalidOperationException>(() => scheduler.Step(x, 0, x));
        Assert.Throws<InvalidOperationException>(() => scheduler.InitNoiseSigma);
        scheduler.SetTimesteps(10);
        Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.Step(x, 10, x));
        Assert.Throws<ArgumentException>(() => scheduler.Step(x, 0, new float[15]));
        Assert.Contains("noise source", Assert.Throws<ArgumentException>(() => scheduler.Step(x, 0, x)).Message);
    }
}
