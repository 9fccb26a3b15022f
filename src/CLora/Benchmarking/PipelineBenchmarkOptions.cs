using IlgpuDiffusion.Model.Configs;

namespace IlgpuDiffusion.CLora.Benchmarking;

/// <summary>What a <see cref="PipelineBenchmark"/> measures: the image size, the batch, and how many untimed and timed runs of each stage.</summary>
public sealed record PipelineBenchmarkOptions
{
    /// <summary>The image width in pixels (a multiple of the VAE's factor); null: the UNet's sample size × the factor (512 for SD 1.5).</summary>
    public int? Width { get; init; }

    /// <summary>The image height in pixels; null as for <see cref="Width"/>.</summary>
    public int? Height { get; init; }

    /// <summary>Timed runs of each stage; the report gives their median.</summary>
    public int Repeats { get; init; } = 3;

    /// <summary>Untimed runs of each stage first (kernel compilation, allocator warm-up); with none, the first training step also attaches the adapters.</summary>
    public int Warmup { get; init; } = 1;

    /// <summary>Images per run: the UNet CFG step runs 2 × this many samples, the text encoder 2 × this many prompts.</summary>
    public int Batch { get; init; } = 1;

    /// <summary>The LoRA rank of the training step's adapters (on every cross-attention K/V projection).</summary>
    public int Rank { get; init; } = 16;

    /// <summary>The seed of the latents, noise, timesteps and adapters.</summary>
    public ulong Seed { get; init; }

    /// <summary>The image size these options give <paramref name="config"/>, checked.</summary>
    /// <exception cref="ArgumentException">A size, count or rank out of range; the message names the option.</exception>
    public (int Width, int Height) Resolve(StableDiffusionConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        int factor = 1 << (config.Vae.Levels - 1);
        int width = Width ?? config.UNet.SampleSize * factor, height = Height ?? config.UNet.SampleSize * factor;
        foreach (var (name, value) in new[] { ("--width", width), ("--height", height) })
            if (value < factor || value % factor != 0)
                throw new ArgumentException($"{name} {value} must be a positive multiple of {factor} (the VAE's downsampling factor).");
        foreach (var (name, value, minimum) in new[] { ("--steps", Repeats, 1), ("--warmup", Warmup, 0), ("--batch", Batch, 1), ("--rank", Rank, 1) })
            if (value < minimum) throw new ArgumentException($"{name} {value} must be at least {minimum}.");
        return (width, height);
    }
}
