using System.Diagnostics;
using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Images;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Text;
using IlgpuDiffusion.Model.TextEncoder;
using IlgpuDiffusion.Model.UNet;
using IlgpuDiffusion.Model.Vae;
using Checkpoint = IlgpuDiffusion.Model.Loading.Checkpoint;

namespace IlgpuDiffusion.Model.Pipelines;

/// <summary>
/// Stable Diffusion 1.x text-to-image and image-to-image with diffusers' semantics: it owns the loaded tokenizer,
/// text encoder, UNet and VAE of one checkpoint, and each <see cref="Generate"/> call encodes the prompts, runs the
/// scheduler loop with classifier-free guidance (one UNet call on <c>[uncond; cond]</c> per step), and decodes the
/// latents to RGB images carrying A1111 generation parameters.
/// <code>
/// using var device = Device.Open();
/// using var pipeline = StableDiffusionPipeline.Load(new ModelSource("sd15") { Weights = DType.F16 }, device);
/// var result = pipeline.Generate(new TextToImageRequest { Prompt = "a photograph of an astronaut riding a horse", Seed = 42 },
///     progress => Console.Write($"\rstep {progress.Step}/{progress.Total}"));
/// PngWriter.Save("astronaut.png", result.Images[0].Image, result.Images[0].Parameters);
/// </code>
/// </summary>
public sealed class StableDiffusionPipeline : IDisposable
{
    private readonly Device device;
    private readonly Denoiser denoiser;
    private readonly Lazy<string> modelHash;
    private readonly string? vaeName;
    private readonly ReloadableTextEncoder textEncoder;
    private PromptEncoder? prompts;

    private StableDiffusionPipeline(Checkpoint checkpoint, ClipTokenizer tokenizer, ClipTextEncoder textEncoder, UNet2DCondition unet,
        AutoencoderKL vae, string? vaeFile)
    {
        device = checkpoint.UNet.Device;
        Config = checkpoint.Config;
        Tokenizer = tokenizer;
        this.textEncoder = new ReloadableTextEncoder(textEncoder, checkpoint.Source, checkpoint.Config.TextEncoder, device);
        UNet = unet;
        Vae = vae;
        denoiser = new Denoiser(unet, device);
        var modelPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(checkpoint.Source.ModelPath));
        ModelName = checkpoint.Layout == CheckpointLayout.SingleFile ? Path.GetFileNameWithoutExtension(modelPath) : Path.GetFileName(modelPath);
        var hashed = CheckpointLoader.WeightFiles(checkpoint.Source.ModelPath)[0]; // the single file, or a folder's unet/ weights
        modelHash = new Lazy<string>(() => Images.ModelHash.A1111(hashed));
        vaeName = vaeFile is null ? null : Path.GetFileName(vaeFile);
    }

    public StableDiffusionConfig Config { get; }

    public ClipTokenizer Tokenizer { get; }

    /// <summary>The text encoder; after a run with <see cref="MemoryOptions.ReleaseTextEncoder"/> it is loaded again from the checkpoint here.</summary>
    public ClipTextEncoder TextEncoder => textEncoder.Current;

    /// <summary>Whether the text encoder's weights are on the device (false after a run that released them).</summary>
    public bool TextEncoderLoaded => textEncoder.IsLoaded;

    /// <summary>
    /// Whether the text encoder has been changed in place (concept tokens, a text-encoder LoRA: see
    /// <see cref="KeepTextEncoder"/>); such an encoder exists only on the device, so it is never released.
    /// </summary>
    public bool TextEncoderKept { get; private set; }

    /// <summary>
    /// Marks the text encoder as changed in place, so <see cref="MemoryOptions.ReleaseTextEncoder"/> no longer frees it:
    /// reloading it from the checkpoint would lose the change. Customizations call this before they touch the encoder.
    /// </summary>
    public void KeepTextEncoder() => TextEncoderKept = true;

    public UNet2DCondition UNet { get; }

    public AutoencoderKL Vae { get; }

    /// <summary>Prompt → conditioning, with A1111's weighting and chunking.</summary>
    public PromptEncoder Prompts => prompts ??= new PromptEncoder(Tokenizer, TextEncoder, device);

    /// <summary>How the next <see cref="Generate"/> calls trade time for device memory (default: <see cref="MemoryOptions.Default"/>).</summary>
    public MemoryOptions Memory
    {
        get;
        set => field = value ?? throw new ArgumentNullException(nameof(value));
    } = MemoryOptions.Default;

    /// <summary>The checkpoint's name as A1111 writes it: the file name without extension, or the folder's name.</summary>
    public string ModelName { get; }

    /// <summary>A1111's short hash of the weights file (for a diffusers folder, the UNet's), computed on first use.</summary>
    public string ModelHash => modelHash.Value;

    /// <summary>Opens <paramref name="source"/> on <paramref name="device"/> and loads it (see <see cref="Load(Checkpoint, string?)"/>).</summary>
    public static StableDiffusionPipeline Load(ModelSource source, Device device, string? vaeFile = null)
    {
        using var checkpoint = CheckpointLoader.Open(source, device);
        return Load(checkpoint, vaeFile);
    }

    /// <summary>
    /// Builds the networks from an opened <paramref name="checkpoint"/> (which may be disposed afterwards), the VAE from
    /// <paramref name="vaeFile"/> when given (<see cref="VaeCheckpoint"/>: a diffusers, single-file or LDM VAE).
    /// </summary>
    /// <exception cref="WeightsMismatchException">A network's tensors do not match its config.</exception>
    /// <exception cref="CheckpointException">No tokenizer, or the VAE file cannot be used.</exception>
    public static StableDiffusionPipeline Load(Checkpoint checkpoint, string? vaeFile = null)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var config = checkpoint.Config;
        var tokenizer = checkpoint.LoadTokenizer();
        using var vaeCheckpoint = vaeFile is null ? null : VaeCheckpoint.Open(vaeFile, config.Vae, checkpoint.UNet.Device, checkpoint.Source.Weights);
        var modules = new List<IDisposable>();
        try
        {
            var textEncoder = Add(modules, new ClipTextEncoder(config.TextEncoder, checkpoint.TextEncoder));
            var unet = Add(modules, new UNet2DCondition(config.UNet, checkpoint.UNet));
            var vae = Add(modules, new AutoencoderKL(config.Vae, vaeCheckpoint?.Weights ?? checkpoint.Vae));
            vaeCheckpoint?.Complete();
            WeightSet[] sets = vaeCheckpoint is null ? [checkpoint.TextEncoder, checkpoint.UNet, checkpoint.Vae] : [checkpoint.TextEncoder, checkpoint.UNet];
            var problems = sets.Select(set => set.Report()).Where(report => !report.IsClean).ToList();
            if (problems.Count > 0) throw new WeightsMismatchException(problems);
            return new StableDiffusionPipeline(checkpoint, tokenizer, textEncoder, unet, vae, vaeFile);
        }
        catch
        {
            foreach (var module in modules) module.Dispose();
            throw;
        }
    }

    /// <summary>The resolved plan of <paramref name="request"/> for this model (sizes, scheduler, cost); throws on a bad request.</summary>
    public GenerationPlan Plan(TextToImageRequest request) => GenerationPlan.For(Config, request);

    /// <summary>
    /// Runs <paramref name="request"/>: <see cref="TextToImageRequest.BatchCount"/> batches of
    /// <see cref="TextToImageRequest.BatchSize"/> images, reporting each denoising step to <paramref name="progress"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The request does not fit the model (see <see cref="GenerationPlan.For"/>).</exception>
    public TextToImageResult Generate(TextToImageRequest request, Action<DenoisingProgress>? progress = null)
    {
        var plan = Plan(request);
        long firstSeed = request.Seed ?? Random.Shared.NextInt64(0, 1L << 32);
        device.Memory.ResetPeak();
        using var noGrad = Grad.NoGrad();
        var clock = Stopwatch.StartNew();
        using var context = Conditioning(request, plan);
        if (Memory.ReleaseTextEncoder && !TextEncoderKept) ReleaseTextEncoder();
        var textEncoding = clock.Elapsed;

        using var initImage = request.InitImage is { } image ? new InitImageLatents(Vae, image, plan, device, Memory.VaeTiling) : null;
        var imageEncoding = initImage is null ? TimeSpan.Zero : clock.Elapsed - textEncoding;
        var denoising = TimeSpan.Zero;
        int batchSize = request.BatchSize, perImage = plan.LatentChannels * plan.LatentHeight * plan.LatentWidth;
        var latents = new float[plan.Images * perImage];
        for (int b = 0; b < request.BatchCount; b++)
        {
            var noise = new BatchNoise(device, [.. Enumerable.Range(b * batchSize, batchSize).Select(i => firstSeed + i)]);
            var scheduler = plan.CreateScheduler();
            clock.Restart();
            var start = StartLatents(request, plan, scheduler, noise, b, initImage);
            int batch = b + 1;
            var done = denoiser.Run(start, scheduler, plan.StartIndex, context, plan.Guided ? (float)request.Guidance : null, noise,
                (step, elapsed, current) => progress?.Invoke(new DenoisingProgress(step, plan.DenoisingSteps, batch, request.BatchCount, elapsed, current)));
            denoising += clock.Elapsed;
            done.Values.CopyTo(latents, b * batchSize * perImage);
        }

        clock.Restart();
        var final = new HostTensor(latents, plan.Images, plan.LatentChannels, plan.LatentHeight, plan.LatentWidth);
        var decoded = Decode(final, plan);
        var images = Enumerable.Range(0, plan.Images).Select(i => new GeneratedImage(
            ImageTensor.ToImage(decoded.Item(i), plan.Width, plan.Height, PixelRange.MinusOneToOne),
            firstSeed + i, Parameters(request, plan, firstSeed + i))).ToList();
        var timings = new GenerationTimings(textEncoding, imageEncoding, denoising, clock.Elapsed);
        return new TextToImageResult(images, final, decoded, timings, device.Memory.PeakReservedBytes) { PeakLiveDeviceBytes = device.Memory.PeakLiveBytes };
    }

    /// <summary>
    /// Frees the text encoder's device weights and returns the allocator's cached blocks to the device; the encoder is
    /// loaded again from the checkpoint when next needed (<see cref="TextEncoder"/>, <see cref="Prompts"/>, <see cref="Generate"/>).
    /// The reloaded encoder is a new object: references to the old one, and concept-token rows attached to it
    /// (<see cref="ClipTextEncoder.ExtraTokenRows"/>), do not carry over.
    /// </summary>
    /// <exception cref="InvalidOperationException">The encoder was changed in place (<see cref="KeepTextEncoder"/>).</exception>
    public void ReleaseTextEncoder()
    {
        if (TextEncoderKept) throw new InvalidOperationException("the text encoder was customized in place (concept tokens or a LoRA); releasing it would lose that.");
        prompts = null;
        textEncoder.Release();
        device.Memory.Trim();
    }

    public void Dispose()
    {
        textEncoder.Dispose();
        UNet.Dispose();
        Vae.Dispose();
    }

    private static T Add<T>(List<IDisposable> modules, T module) where T : IDisposable
    {
        modules.Add(module);
        return module;
    }

    /// <summary>The UNet's context on the device: <c>[uncond × B; cond × B]</c> when guided, else <c>[cond × B]</c>.</summary>
    private Var Conditioning(TextToImageRequest request, GenerationPlan plan)
    {
        var (cond, uncond) = plan.Guided
            ? Prompts.EncodePair(request.Prompt, request.NegativePrompt, request.ClipSkip)
            : (Prompts.Encode(request.Prompt, request.ClipSkip), null);
        PromptEmbedding[] halves = uncond is null ? [cond] : [uncond, cond];
        var rows = halves.SelectMany(half => Enumerable.Repeat(half.Values, request.BatchSize)).ToList();
        var values = new float[rows.Sum(r => r.Length)];
        for (int i = 0; i < rows.Count; i++) rows[i].CopyTo(values, i * cond.Values.Length);
        return Var.Constant(Tensor.FromHost(device, values, rows.Count, cond.Tokens, cond.Width));
    }

    /// <summary>
    /// Batch <paramref name="batch"/>'s starting latents: the init latents or seeded noise × init_noise_sigma, or for
    /// image-to-image the encoded image noised to the first step (<see cref="Schedulers.Scheduler.AddNoiseAtStep"/>).
    /// </summary>
    private static HostTensor StartLatents(TextToImageRequest request, GenerationPlan plan, Schedulers.Scheduler scheduler, BatchNoise noise,
        int batch, InitImageLatents? initImage)
    {
        int batchSize = request.BatchSize, perImage = plan.LatentChannels * plan.LatentHeight * plan.LatentWidth;
        var values = request.InitLatents is { } given
            ? given.Values[(batch * batchSize * perImage)..((batch + 1) * batchSize * perImage)]
            : noise.Draw(perImage, BatchNoise.InitialNoise);
        if (initImage is not null)
            values = scheduler.AddNoiseAtStep(initImage.Sample(noise.Seeds), values, plan.StartIndex);
        else
        {
            float sigma = scheduler.InitNoiseSigma;
            for (int i = 0; i < values.Length; i++) values[i] *= sigma;
        }
        return new HostTensor(values, batchSize, plan.LatentChannels, plan.LatentHeight, plan.LatentWidth);
    }

    /// <summary>
    /// vae.decode(latents / scaling_factor), one image at a time to bound the decoder's activation memory, in tiles when
    /// <see cref="MemoryOptions.VaeTiling"/> is set and the image is larger than a tile.
    /// </summary>
    private HostTensor Decode(HostTensor latents, GenerationPlan plan)
    {
        float scaling = (float)Config.Vae.ScalingFactor;
        int perImage = 3 * plan.Width * plan.Height;
        var decoded = new float[plan.Images * perImage];
        for (int i = 0; i < plan.Images; i++)
        {
            var z = latents.Item(i).ToArray();
            for (int k = 0; k < z.Length; k++) z[k] /= scaling;
            var image = VaeCodec.Decode(Vae, new HostTensor(z, 1, plan.LatentChannels, plan.LatentHeight, plan.LatentWidth), device, Memory.VaeTiling);
            image.Values.CopyTo(decoded, i * perImage);
        }
        return new HostTensor(decoded, plan.Images, 3, plan.Height, plan.Width);
    }

    /// <summary>The A1111 parameters of the image with <paramref name="seed"/>.</summary>
    private GenerationParameters Parameters(TextToImageRequest request, GenerationPlan plan, long seed)
    {
        var extra = new List<KeyValuePair<string, string>>();
        if (request.ClipSkip > 1) extra.Add(new("Clip skip", request.ClipSkip.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (request.InitImage is not null) extra.Add(new("Denoising strength", A1111Values.Float(request.Strength)));
        if (vaeName is not null) extra.Add(new("VAE", vaeName));
        return new GenerationParameters(request.Prompt, request.NegativePrompt, request.Steps, plan.SamplerName, request.Guidance, seed, plan.Width, plan.Height)
        {
            ModelName = ModelName,
            ModelHash = ModelHash,
            Extra = extra,
        };
    }
}
