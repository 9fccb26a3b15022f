using System.CommandLine;
using IlgpuDiffusion.CLora.Training;

namespace IlgpuDiffusion.Cli.Train;

/// <summary>
/// The options of <c>train</c> that make up a <see cref="ConceptLesson"/>, <see cref="TrainerOptions"/> and
/// <see cref="ValidationSettings"/>; an out-of-range value is reported with the option's name.
/// </summary>
internal sealed class TrainOptions
{
    private static readonly TrainerOptions Defaults = new();

    public Option<string> Library { get; } = new("--library") { HelpName = "DIR", Description = "The concept library folder (created if it holds none).", Required = true };

    public Option<string> Concept { get; } = new("--concept") { HelpName = "NAME", Description = "The new concept's name; its token is <NAME>.", Required = true };

    public Option<string> Images { get; } = new("--images")
    {
        HelpName = "DIR",
        Description = "A folder of the concept's PNG/JPEG images (a NAME.txt caption beside an image replaces the prompt templates for it).",
        Required = true,
    };

    public Option<string?> ClassWord { get; } = new("--class") { HelpName = "WORD", Description = "The concept's class word, recorded in the library." };

    public Option<string?> Method { get; } = new("--method")
    {
        Description = "c-lora, lora (λ = 0), kv-finetune (full K/V weights) or token-only (default: an existing library's method, else c-lora).",
    };

    public Option<int> Steps { get; } = new("--steps") { Description = "Optimizer steps.", DefaultValueFactory = _ => Defaults.Steps };

    public Option<int> Rank { get; } = new("--rank") { Description = "LoRA rank (c-lora, lora).", DefaultValueFactory = _ => Defaults.Rank };

    public Option<float> Lambda { get; } = new("--lambda")
    {
        Description = "C-LoRA's regulariser weight λ, fixed when the library is created (an existing library keeps its own).",
        DefaultValueFactory = _ => Defaults.Lambda,
    };

    public Option<int> Resolution { get; } = new("--resolution") { HelpName = "PX", Description = "Training image size.", DefaultValueFactory = _ => Defaults.Resolution };

    public Option<float> Lr { get; } = new("--lr") { Description = "Learning rate of the adapters (or K/V weights).", DefaultValueFactory = _ => Defaults.LearningRate };

    public Option<float> TokenLr { get; } = new("--token-lr") { Description = "Learning rate of the concept token's embedding.", DefaultValueFactory = _ => Defaults.TokenLearningRate };

    public Option<float> Beta1 { get; } = new("--adam-beta1") { Description = "AdamW β1.", DefaultValueFactory = _ => Defaults.Beta1 };

    public Option<float> Beta2 { get; } = new("--adam-beta2") { Description = "AdamW β2.", DefaultValueFactory = _ => Defaults.Beta2 };

    public Option<float> WeightDecay { get; } = new("--weight-decay") { Description = "AdamW's decoupled weight decay.", DefaultValueFactory = _ => Defaults.WeightDecay };

    public Option<float> Epsilon { get; } = new("--adam-epsilon") { Description = "AdamW ε.", DefaultValueFactory = _ => Defaults.Epsilon };

    public Option<string> Scheduler { get; } = new("--lr-scheduler") { Description = "Learning-rate schedule after warmup: constant, cosine or linear.", DefaultValueFactory = _ => "constant" };

    public Option<int> Warmup { get; } = new("--warmup") { HelpName = "STEPS", Description = "Linear learning-rate warmup steps." };

    public Option<float> MaxGradNorm { get; } = new("--max-grad-norm") { Description = "Bound of the global gradient norm.", DefaultValueFactory = _ => Defaults.MaxGradNorm };

    public Option<int> GradAccum { get; } = new("--grad-accum") { HelpName = "N", Description = "Micro-batches per optimizer step.", DefaultValueFactory = _ => 1 };

    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Images per micro-batch.", DefaultValueFactory = _ => Defaults.BatchSize };

    public Option<ulong> Seed { get; } = new("--seed") { Description = "Seed of the adapters, token and batches.", DefaultValueFactory = _ => Defaults.Seed };

    public Option<float?> MinSnrGamma { get; } = new("--min-snr-gamma") { HelpName = "GAMMA", Description = "Min-SNR loss weighting with this γ (e.g. 5; default: plain MSE)." };

    public Option<float?> NoiseOffset { get; } = new("--noise-offset") { Description = "Noise offset (e.g. 0.05; default: none)." };

    public Option<int> CheckpointEvery { get; } = new("--checkpoint-every") { HelpName = "N", Description = "Save a resumable checkpoint every N steps (0: never)." };

    public Option<bool> NoFlip { get; } = new("--no-flip") { Description = "Do not add horizontally flipped images." };

    public Option<bool> GradientCheckpointing { get; } = new("--gradient-checkpointing") { Description = "Recompute UNet activations in backward (less memory, slower)." };

    public Option<string?> ClassImages { get; } = new("--class-images") { HelpName = "DIR", Description = "Generic class images for prior preservation (needs --class-prompt)." };

    public Option<string?> ClassPrompt { get; } = new("--class-prompt") { HelpName = "TEXT", Description = "The prompt of the class images, e.g. \"a photo of a dog\"." };

    public Option<float> PriorLossWeight { get; } = new("--prior-loss-weight") { HelpName = "W", Description = "Weight of the class images' loss.", DefaultValueFactory = _ => Defaults.PriorLossWeight };

    public Option<int> ValidateEvery { get; } = new("--validate-every") { HelpName = "N", Description = "Write a validation image every N steps to LIB/validation/ (needs --validation-prompt)." };

    public Option<string?> ValidationPrompt { get; } = new("--validation-prompt") { HelpName = "TEXT", Description = "The validation prompt, naming the concept as <NAME>." };

    public Option<int> ValidationSteps { get; } = new("--validation-steps") { HelpName = "S", Description = "Sampling steps of a validation image.", DefaultValueFactory = _ => 25 };

    /// <summary>The names of <see cref="TrainerOptions"/>' and <see cref="ValidationSettings"/>' properties as options, for error messages.</summary>
    private Dictionary<string, Option> ByProperty => new(StringComparer.Ordinal)
    {
        [nameof(TrainerOptions.Rank)] = Rank, [nameof(TrainerOptions.Lambda)] = Lambda, [nameof(TrainerOptions.LearningRate)] = Lr,
        [nameof(TrainerOptions.TokenLearningRate)] = TokenLr, [nameof(TrainerOptions.Beta1)] = Beta1, [nameof(TrainerOptions.Beta2)] = Beta2,
        [nameof(TrainerOptions.WeightDecay)] = WeightDecay, [nameof(TrainerOptions.Epsilon)] = Epsilon, [nameof(TrainerOptions.WarmupSteps)] = Warmup,
        [nameof(TrainerOptions.MaxGradNorm)] = MaxGradNorm, [nameof(TrainerOptions.GradientAccumulation)] = GradAccum,
        [nameof(TrainerOptions.BatchSize)] = BatchSize, [nameof(TrainerOptions.Steps)] = Steps, [nameof(TrainerOptions.MinSnrGamma)] = MinSnrGamma,
        [nameof(TrainerOptions.NoiseOffset)] = NoiseOffset, [nameof(TrainerOptions.Resolution)] = Resolution,
        [nameof(TrainerOptions.CheckpointEvery)] = CheckpointEvery, [nameof(TrainerOptions.PriorLossWeight)] = PriorLossWeight,
        [nameof(ValidationSettings.Every)] = ValidateEvery, [nameof(ValidationSettings.Prompt)] = ValidationPrompt,
        [nameof(ValidationSettings.Steps)] = ValidationSteps,
    };

    /// <summary>Adds every option to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        Method.AcceptOnlyFromAmong([.. TrainingMethods.Names]);
        Scheduler.AcceptOnlyFromAmong("constant", "cosine", "linear");
        foreach (Option option in new Option[]
        {
            Library, Concept, Images, ClassWord, Method, Steps, Rank, Lambda, Resolution, Lr, TokenLr, Beta1, Beta2, WeightDecay, Epsilon,
            Scheduler, Warmup, MaxGradNorm, GradAccum, BatchSize, Seed, MinSnrGamma, NoiseOffset, CheckpointEvery, NoFlip,
            GradientCheckpointing, ClassImages, ClassPrompt, PriorLossWeight, ValidateEvery, ValidationPrompt, ValidationSteps,
        })
            command.Options.Add(option);
    }

    /// <summary>The concept to learn.</summary>
    public ConceptLesson Lesson(ParseResult parse) => new()
    {
        Name = parse.GetValue(Concept)!,
        Images = parse.GetValue(Images)!,
        ClassWord = parse.GetValue(ClassWord),
        ClassImages = parse.GetValue(ClassImages),
        ClassPrompt = parse.GetValue(ClassPrompt),
    };

    /// <summary>The trainer's settings for <paramref name="method"/>, checked.</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names its option.</exception>
    public TrainerOptions Trainer(ParseResult parse, TrainingMethod method)
    {
        var options = new TrainerOptions
        {
            Method = method,
            Steps = parse.GetValue(Steps),
            Rank = parse.GetValue(Rank),
            Lambda = parse.GetValue(Lambda),
            Resolution = parse.GetValue(Resolution),
            LearningRate = parse.GetValue(Lr),
            TokenLearningRate = parse.GetValue(TokenLr),
            Beta1 = parse.GetValue(Beta1),
            Beta2 = parse.GetValue(Beta2),
            WeightDecay = parse.GetValue(WeightDecay),
            Epsilon = parse.GetValue(Epsilon),
            Schedule = Enum.Parse<LearningRateScheduleKind>(parse.GetValue(Scheduler)!, ignoreCase: true),
            WarmupSteps = parse.GetValue(Warmup),
            MaxGradNorm = parse.GetValue(MaxGradNorm),
            GradientAccumulation = parse.GetValue(GradAccum),
            BatchSize = parse.GetValue(BatchSize),
            Seed = parse.GetValue(Seed),
            MinSnrGamma = parse.GetValue(MinSnrGamma),
            NoiseOffset = parse.GetValue(NoiseOffset),
            CheckpointEvery = parse.GetValue(CheckpointEvery),
            FlipHorizontal = !parse.GetValue(NoFlip),
            GradientCheckpointing = parse.GetValue(GradientCheckpointing),
            PriorLossWeight = parse.GetValue(PriorLossWeight),
        };
        Named(options.Validate);
        return options;
    }

    /// <summary>The validation settings, or null without <c>--validate-every</c>.</summary>
    /// <exception cref="ArgumentException">A value is out of range or the prompt is missing; the message names the option.</exception>
    public ValidationSettings? Validation(ParseResult parse)
    {
        int every = parse.GetValue(ValidateEvery);
        string? prompt = parse.GetValue(ValidationPrompt);
        if (every == 0 && prompt is null) return null;
        if (every == 0) throw new ArgumentException($"{ValidationPrompt.Name} needs {ValidateEvery.Name} N.");
        var settings = new ValidationSettings { Every = every, Prompt = prompt ?? "", Steps = parse.GetValue(ValidationSteps) };
        Named(settings.Validate);
        return settings;
    }

    /// <summary>Runs <paramref name="validate"/>, prefixing its error with the option the failing setting comes from.</summary>
    private void Named(Action validate)
    {
        try
        {
            validate();
        }
        catch (ArgumentException e) when (e.ParamName is { } property && ByProperty.TryGetValue(property, out var option))
        {
            throw new ArgumentException($"{option.Name}: {e.Message.Replace($" (Parameter '{property}')", "", StringComparison.Ordinal)}", e);
        }
    }
}
