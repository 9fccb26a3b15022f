using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Model.Pipelines;

/// <summary>
/// What <see cref="StableDiffusionPipeline.Generate"/> makes: text-to-image, or image-to-image when
/// <see cref="InitImage"/> is set. Defaults follow diffusers' SD 1.5 pipeline (50 steps, guidance 7.5, the model's
/// sample size × 8 = 512², the scheduler its config names: PNDM for SD 1.5).
/// <para>Prompts use AUTOMATIC1111's syntax: <c>(word)</c> ×1.1, <c>[word]</c> ÷1.1, <c>(word:1.5)</c>, <c>BREAK</c>,
/// and prompts longer than 75 tokens are encoded as several 77-token chunks concatenated along the token axis. A
/// prompt of at most 75 tokens without that syntax is encoded exactly as diffusers does.</para>
/// </summary>
public sealed record TextToImageRequest
{
    /// <summary>The prompt (A1111 attention syntax allowed).</summary>
    public required string Prompt { get; init; }

    /// <summary>The negative prompt; "" is encoded as the empty prompt, as diffusers does.</summary>
    public string NegativePrompt { get; init; } = "";

    /// <summary>Denoising steps given to the scheduler (image-to-image runs about <c>Steps × Strength</c> of them).</summary>
    public int Steps { get; init; } = 50;

    /// <summary>Classifier-free guidance scale; at most 1 skips the unconditional half (one UNet batch of the prompt only).</summary>
    public double Guidance { get; init; } = 7.5;

    /// <summary>Image width in pixels, a multiple of 8; null: the init latents' or init image's width, else the UNet's sample_size × 8.</summary>
    public int? Width { get; init; }

    /// <summary>Image height in pixels, a multiple of 8; null as for <see cref="Width"/>.</summary>
    public int? Height { get; init; }

    /// <summary>
    /// The seed of the first image; image i of the run (over batches) uses <c>Seed + i</c>, as AUTOMATIC1111 does. Null
    /// picks a random one (see <see cref="TextToImageResult"/>). The noise is <see cref="Kernels.Philox"/>'s standard
    /// normals, the same on every device, but NOT what torch's generator draws for the same seed: to reproduce a
    /// diffusers image, pass its starting noise as <see cref="InitLatents"/>.
    /// </summary>
    public long? Seed { get; init; }

    /// <summary>Images per UNet call (the latents of one batch are denoised together).</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>How many batches to run one after another.</summary>
    public int BatchCount { get; init; } = 1;

    /// <summary>ddim, pndm, euler, euler-a, dpmpp-2m, lms or ddpm (<see cref="Schedulers.Schedulers.Names"/>); null: the model's scheduler config class.</summary>
    public string? Scheduler { get; init; }

    /// <summary>Karras sigmas (euler, lms, dpmpp-2m).</summary>
    public bool Karras { get; init; }

    /// <summary>DDIM's η (0: deterministic).</summary>
    public float Eta { get; init; }

    /// <summary>A1111's clip skip: 1 uses the text encoder's last layer, 2 the one before, …</summary>
    public int ClipSkip { get; init; } = 1;

    /// <summary>
    /// Standard-normal starting noise, NCHW <c>[BatchSize × BatchCount, latent channels, Height/8, Width/8]</c>, used
    /// instead of the seeded noise and scaled by the scheduler's init_noise_sigma (diffusers' <c>latents=</c>); for
    /// image-to-image it is the noise added to the encoded image.
    /// </summary>
    public HostTensor? InitLatents { get; init; }

    /// <summary>The image to start from (image-to-image), resized and centre-cropped to the output size.</summary>
    public RgbImage? InitImage { get; init; }

    /// <summary>How much of the schedule image-to-image runs, in (0, 1]: 1 ignores the image's content, small values keep it.</summary>
    public double Strength { get; init; } = 0.8;
}
