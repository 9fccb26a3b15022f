using System.CommandLine;
using IlgpuDiffusion.Model.Images;
using IlgpuDiffusion.Model.Pipelines;
using SchedulerFactory = IlgpuDiffusion.Model.Schedulers.Schedulers;

namespace IlgpuDiffusion.Cli.Generate;

/// <summary>The options of <c>generate</c> that make up a <see cref="TextToImageRequest"/>.</summary>
internal sealed class GenerateOptions
{
    public Option<string> Prompt { get; } = new("--prompt")
    {
        HelpName = "TEXT",
        Description = "The prompt; AUTOMATIC1111 syntax: (word), [word], (word:1.5), BREAK; longer than 75 tokens is fine.",
        Required = true,
    };

    public Option<string> NegativePrompt { get; } = new("--negative-prompt")
    {
        HelpName = "TEXT",
        Description = "The negative prompt (default: none, encoded as the empty prompt).",
        DefaultValueFactory = _ => "",
    };

    public Option<string?> Scheduler { get; } = new("--scheduler")
    {
        Description = "The sampler (default: the model's scheduler config, PNDM for SD 1.5).",
    };

    public Option<bool> Karras { get; } = new("--karras") { Description = "Karras sigmas (euler, lms, dpmpp-2m)." };

    public Option<float> Eta { get; } = new("--eta") { Description = "DDIM's eta (0: deterministic).", DefaultValueFactory = _ => 0f };

    public Option<int> Steps { get; } = new("--steps") { Description = "Denoising steps.", DefaultValueFactory = _ => 50 };

    public Option<double> Guidance { get; } = new("--guidance")
    {
        Description = "Classifier-free guidance scale (≤ 1 turns guidance off).",
        DefaultValueFactory = _ => 7.5,
    };

    public Option<int?> Width { get; } = new("--width") { Description = "Image width, a multiple of 8 (default: the model's sample size × 8, 512 for SD 1.5)." };

    public Option<int?> Height { get; } = new("--height") { Description = "Image height, a multiple of 8 (default as --width)." };

    public Option<long> Seed { get; } = new("--seed")
    {
        Description = "Seed of the first image; image i uses seed + i; -1 picks a random one.",
        DefaultValueFactory = _ => -1,
    };

    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Images per UNet call.", DefaultValueFactory = _ => 1 };

    public Option<int> BatchCount { get; } = new("--batch-count") { Description = "Batches to run one after another.", DefaultValueFactory = _ => 1 };

    public Option<int> ClipSkip { get; } = new("--clip-skip") { Description = "Use the text encoder's layer N from the end (A1111's clip skip).", DefaultValueFactory = _ => 1 };

    public Option<string?> InitLatents { get; } = new("--init-latents")
    {
        HelpName = "FILE",
        Description = "A safetensors file whose 'latents' tensor [N, 4, h, w] (standard normal, N = batch size × batch count) replaces the seeded noise.",
    };

    public Option<string?> InitImage { get; } = new("--init-image")
    {
        HelpName = "FILE",
        Description = "Image-to-image: start from this PNG/JPEG (resized and centre-cropped to the output size).",
    };

    public Option<double?> Strength { get; } = new("--strength")
    {
        Description = "Image-to-image strength in (0, 1] (default 0.8): the share of the schedule that runs.",
    };

    public Option<string?> Vae { get; } = new("--vae")
    {
        HelpName = "FILE",
        Description = "Replace the model's VAE with this .safetensors file (diffusers, single-file or LDM VAE names).",
    };

    public GenerateOptions() => Scheduler.AcceptOnlyFromAmong([.. SchedulerFactory.Names]);

    /// <summary>Adds every option to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (Option option in new Option[]
                 {
                     Prompt, NegativePrompt, Scheduler, Karras, Eta, Steps, Guidance, Width, Height, Seed, BatchSize, BatchCount, ClipSkip,
                     InitLatents, InitImage, Strength, Vae,
                 })
            command.Options.Add(option);
    }

    /// <summary>The request the parsed options describe; reads the init latents and init image files.</summary>
    /// <exception cref="ArgumentException">--strength without --init-image, or an unreadable latents file.</exception>
    public TextToImageRequest Request(ParseResult parse)
    {
        var initImage = parse.GetValue(InitImage);
        var strength = parse.GetValue(Strength);
        if (strength is not null && initImage is null) throw new ArgumentException("--strength applies to image-to-image only: give --init-image FILE too.");
        long seed = parse.GetValue(Seed);
        if (seed < -1) throw new ArgumentException($"--seed {seed}: expected -1 (random) or a seed ≥ 0.");
        var latents = parse.GetValue(InitLatents) is { } latentsPath ? LatentFile.Read(latentsPath) : null;
        var request = new TextToImageRequest
        {
            Prompt = parse.GetValue(Prompt)!,
            NegativePrompt = parse.GetValue(NegativePrompt)!,
            Scheduler = parse.GetValue(Scheduler),
            Karras = parse.GetValue(Karras),
            Eta = parse.GetValue(Eta),
            Steps = parse.GetValue(Steps),
            Guidance = parse.GetValue(Guidance),
            Width = parse.GetValue(Width),
            Height = parse.GetValue(Height),
            Seed = seed == -1 ? null : seed,
            BatchSize = parse.GetValue(BatchSize),
            BatchCount = parse.GetValue(BatchCount),
            ClipSkip = parse.GetValue(ClipSkip),
            InitLatents = latents,
            InitImage = initImage is null ? null : ImageFile.Read(initImage),
        };
        return strength is { } s ? request with { Strength = s } : request;
    }
}
