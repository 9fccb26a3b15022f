using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Schedulers;

namespace IlgpuDiffusion.Model.Pipelines;

/// <summary>
/// A <see cref="TextToImageRequest"/> checked against a model's configs and resolved: image and latent sizes, the
/// scheduler, where image-to-image enters the schedule, and what the run costs. Made from configs alone, so a
/// console can validate a request and estimate its cost before loading any weights.
/// <code>
/// using var checkpoint = CheckpointLoader.Open(source, device);          // reads headers, no weights yet
/// var plan = GenerationPlan.For(checkpoint.Config, request);            // throws on a bad request
/// Console.WriteLine($"{plan.UNetTeraFlops:F1} TFLOP");
/// </code>
/// </summary>
public sealed class GenerationPlan
{
    /// <summary>The UNet FLOPs of one SD 1.5 forward on one 64×64 latent (about 0.8 TFLOP); other sizes scale with h·w.</summary>
    public const double StableDiffusion15UNetFlops = 0.8e12;

    /// <summary>What ILGPU's CPU accelerator sustains on the UNet's kernels, roughly: 0.5 GFLOP/s.</summary>
    public const double CpuAcceleratorFlopsPerSecond = 0.5e9;

    /// <summary>A UNet whose first level is at least this wide is a full-size model (SD 1.5: 320).</summary>
    public const int FullSizeWidth = 320;

    private readonly StableDiffusionConfig config;
    private readonly TextToImageRequest request;

    private GenerationPlan(StableDiffusionConfig config, TextToImageRequest request, SchedulerConfig schedulerConfig)
    {
        this.config = config;
        this.request = request;
        SchedulerConfig = schedulerConfig;
        VaeScaleFactor = 1 << (config.Vae.Levels - 1);
        (Width, Height) = Size();
        var scheduler = CreateScheduler();
        SamplerName = scheduler.DisplayName;
        StartIndex = StartStep(scheduler.InferenceSteps);
        DenoisingSteps = scheduler.Timesteps.Count - StartIndex;
        if (DenoisingSteps < 1)
            throw new ArgumentException($"strength {request.Strength} × {request.Steps} steps leaves no denoising step; raise the strength or the steps.", nameof(request));
        CheckInitLatents();
    }

    /// <summary>The scheduler config: the model's <c>scheduler_config.json</c>, else SD 1.5's.</summary>
    public SchedulerConfig SchedulerConfig { get; }

    /// <summary>The VAE's downsampling factor, 2^(levels − 1) (8 for SD).</summary>
    public int VaeScaleFactor { get; }

    public int Width { get; }

    public int Height { get; }

    public int LatentWidth => Width / VaeScaleFactor;

    public int LatentHeight => Height / VaeScaleFactor;

    public int LatentChannels => config.Vae.LatentChannels;

    /// <summary>Images in all batches: batch size × batch count.</summary>
    public int Images => request.BatchSize * request.BatchCount;

    /// <summary>True when guidance &gt; 1: each UNet call runs the unconditional and the conditional half.</summary>
    public bool Guided => request.Guidance > 1;

    /// <summary>A1111's name of the sampler ("DDIM", "Euler a", "DPM++ 2M Karras"…).</summary>
    public string SamplerName { get; }

    /// <summary>The index in the scheduler's timesteps where denoising starts: 0, or diffusers' <c>t_start × order</c> for image-to-image.</summary>
    public int StartIndex { get; }

    /// <summary>Scheduler steps (UNet calls) per batch.</summary>
    public int DenoisingSteps { get; }

    /// <summary>True for a UNet of SD 1.5's size or larger (first level ≥ <see cref="FullSizeWidth"/> channels).</summary>
    public bool IsFullSizeModel => config.UNet.BlockOutChannels[0] >= FullSizeWidth;

    /// <summary>
    /// The UNet's FLOPs over the whole run, estimated from SD 1.5's 0.8 TFLOP per 64×64 latent, scaled by the latent
    /// area, by (first width / 320)², and by the samples per call (×2 with guidance). The text encoder and VAE are left out.
    /// </summary>
    public double UNetTeraFlops
    {
        get
        {
            double widthRatio = config.UNet.BlockOutChannels[0] / (double)FullSizeWidth;
            double perSample = StableDiffusion15UNetFlops * widthRatio * widthRatio * LatentWidth * LatentHeight / (64.0 * 64.0);
            return perSample * Images * DenoisingSteps * (Guided ? 2 : 1) / 1e12;
        }
    }

    /// <summary>About how long the UNet work takes on ILGPU's CPU accelerator (<see cref="CpuAcceleratorFlopsPerSecond"/>).</summary>
    public TimeSpan EstimatedCpuTime => TimeSpan.FromSeconds(UNetTeraFlops * 1e12 / CpuAcceleratorFlopsPerSecond);

    /// <summary>Checks <paramref name="request"/> against <paramref name="config"/> and resolves it.</summary>
    /// <exception cref="ArgumentException">A value out of range (the message names it and what was expected).</exception>
    public static GenerationPlan For(StableDiffusionConfig config, TextToImageRequest request)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(request);
        Check(request.Prompt is not null, "prompt is required");
        Check(request.NegativePrompt is not null, "the negative prompt is null (use \"\" for none)");
        Check(request.Steps >= 1, $"steps {request.Steps} must be at least 1");
        Check(double.IsFinite(request.Guidance), $"guidance {request.Guidance} must be a finite number");
        Check(request.BatchSize >= 1, $"batch size {request.BatchSize} must be at least 1");
        Check(request.BatchCount >= 1, $"batch count {request.BatchCount} must be at least 1");
        Check(request.Seed is null or >= 0, $"seed {request.Seed} must be ≥ 0 (or null for a random one)");
        int layers = config.TextEncoder.NumHiddenLayers;
        Check(request.ClipSkip >= 1 && request.ClipSkip <= layers, $"clip skip {request.ClipSkip} must be in [1, {layers}] (the text encoder's layers)");
        Check(request.Eta >= 0, $"eta {request.Eta} must be ≥ 0");
        Check(request.InitImage is null || request.Strength is > 0 and <= 1, $"strength {request.Strength} must be in (0, 1]");
        var schedulerConfig = config.SchedulerConfigPath is { } path ? SchedulerConfig.Load(path) : SchedulerConfig.StableDiffusion15;
        return new GenerationPlan(config, request, schedulerConfig);
    }

    /// <summary>A fresh scheduler for one batch, with the request's steps set.</summary>
    public Scheduler CreateScheduler()
    {
        var scheduler = request.Scheduler is null && !request.Karras && request.Eta == 0
            ? Schedulers.Schedulers.FromClassName(SchedulerConfig)
            : Schedulers.Schedulers.Create(request.Scheduler ?? Schedulers.Schedulers.NameOf(SchedulerConfig.ClassName), SchedulerConfig, request.Karras, request.Eta);
        scheduler.SetTimesteps(request.Steps);
        return scheduler;
    }

    private static void Check(bool ok, string problem)
    {
        if (!ok) throw new ArgumentException($"{problem}.", "request");
    }

    /// <summary>The requested size, else the init latents' or init image's, else the UNet's sample size; multiples of the VAE factor.</summary>
    private (int Width, int Height) Size()
    {
        int factor = VaeScaleFactor;
        int width = request.Width ?? request.InitLatents?.Shape[3] * factor ?? RoundDown(request.InitImage?.Width) ?? config.UNet.SampleSize * factor;
        int height = request.Height ?? request.InitLatents?.Shape[2] * factor ?? RoundDown(request.InitImage?.Height) ?? config.UNet.SampleSize * factor;
        foreach (var (name, value) in new[] { ("width", width), ("height", height) })
            Check(value > 0 && value % factor == 0, $"{name} {value} is not a positive multiple of {factor} (the VAE's downsampling factor)");
        return (width, height);
    }

    /// <summary>An init image's side rounded down to a multiple of the VAE factor, as diffusers' preprocessing does.</summary>
    private int? RoundDown(int? side) => side is { } s && s >= VaeScaleFactor ? s - s % VaeScaleFactor : side;

    /// <summary>diffusers' image-to-image <c>get_timesteps</c>: the first index of the schedule to run (every scheduler here has order 1).</summary>
    private int StartStep(int steps)
    {
        if (request.InitImage is null) return 0;
        int initTimestep = Math.Min((int)(steps * request.Strength), steps);
        return Math.Max(steps - initTimestep, 0);
    }

    private void CheckInitLatents()
    {
        if (request.InitLatents is not { } latents) return;
        int[] expected = [Images, LatentChannels, LatentHeight, LatentWidth];
        Check(latents.Shape.SequenceEqual(expected),
            $"init latents are {latents}; expected [{string.Join(", ", expected)}] (batch size × batch count images, latent channels, height/{VaeScaleFactor}, width/{VaeScaleFactor})");
    }
}
