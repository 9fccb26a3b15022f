using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Images;
using IlgpuDiffusion.Model.Pipelines;
using IlgpuDiffusion.Model.Schedulers;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Model;

/// <summary><see cref="GenerationPlan"/>: defaults, image-to-image's place in the schedule, validation, and the sigma-space add_noise it starts from.</summary>
public sealed class GenerationPlanTests
{
    private static readonly StableDiffusionConfig Tiny = StableDiffusionConfig.FromFolder(TinyModel.Folder);

    [Fact]
    public void Defaults_come_from_the_model_configs()
    {
        var plan = GenerationPlan.For(Tiny, new TextToImageRequest { Prompt = "x" });
        Assert.Equal((64, 64, 8, 8, 4), (plan.Width, plan.Height, plan.LatentWidth, plan.LatentHeight, plan.LatentChannels));
        Assert.Equal("PLMS", plan.SamplerName); // the fixture's scheduler_config.json is SD 1.5's PNDMScheduler
        Assert.Equal(51, plan.DenoisingSteps); // PLMS repeats one timestep, as in diffusers
        Assert.True(plan.Guided);
        Assert.False(plan.IsFullSizeModel);
        Assert.False(GenerationPlan.For(Tiny, new TextToImageRequest { Prompt = "x", Guidance = 1 }).Guided);
    }

    [Theory]
    [InlineData("ddim", 10, 0.5, 5, 5)]
    [InlineData("ddim", 10, 1.0, 0, 10)]
    [InlineData("euler", 4, 0.3, 3, 1)]
    [InlineData("pndm", 10, 0.5, 5, 6)]
    public void Image_to_image_starts_where_diffusers_get_timesteps_does(string scheduler, int steps, double strength, int start, int run)
    {
        var plan = GenerationPlan.For(Tiny, new TextToImageRequest
        {
            Prompt = "x", Scheduler = scheduler, Steps = steps, Strength = strength, InitImage = new RgbImage(70, 66, new byte[3 * 70 * 66]),
        });
        Assert.Equal((start, run), (plan.StartIndex, plan.DenoisingSteps));
        Assert.Equal((64, 64), (plan.Width, plan.Height)); // the image's size rounded down to a multiple of 8
    }

    [Fact]
    public void A_strength_that_leaves_no_step_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => GenerationPlan.For(Tiny, new TextToImageRequest
        {
            Prompt = "x", Scheduler = "ddim", Steps = 4, Strength = 0.2, InitImage = new RgbImage(64, 64, new byte[3 * 64 * 64]),
        }));
        Assert.Contains("strength 0.2 × 4 steps leaves no denoising step", error.Message);
    }

    [Theory]
    [InlineData("euler")]
    [InlineData("ddim")]
    public void Add_noise_at_a_step_is_sigma_space_for_k_diffusion_schedulers_and_alpha_space_otherwise(string name)
    {
        var scheduler = Schedulers.Create(name, SchedulerConfig.Load(Tiny.SchedulerConfigPath!));
        scheduler.SetTimesteps(10);
        var x0 = Reference.RandomNormal(16, 1);
        var noise = Reference.RandomNormal(16, 2);
        var noisy = scheduler.AddNoiseAtStep(x0, noise, 3);
        double[] expected;
        if (scheduler is SigmaScheduler sigmas)
            expected = [.. x0.Select((x, i) => x + (double)noise[i] * sigmas.Sigmas[3])];
        else
        {
            double alpha = scheduler.Schedule.AlphasCumprod[(int)scheduler.Timesteps[3]];
            expected = [.. x0.Select((x, i) => Math.Sqrt(alpha) * x + Math.Sqrt(1 - alpha) * noise[i])];
        }
        Assert.True(Reference.RelativeError(noisy, expected) <= 1e-6);
    }
}
