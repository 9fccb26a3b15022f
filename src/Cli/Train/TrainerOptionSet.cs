using System.CommandLine;
using IlgpuDiffusion.CLora.Training;

namespace IlgpuDiffusion.Cli.Train;

/// <summary>
/// The console options that make up <see cref="TrainerOptions"/> (steps, rank, λ, learning rates, AdamW, schedule,
/// clipping, batches, seed, min-SNR, noise offset, flips, checkpoints, prior-loss weight), shared by <c>train</c> and
/// <c>evaluate-sequence</c>; an out-of-range value is reported with the option's name.
/// </summary>
internal sealed class TrainerOptionSet
{
    private static readonly TrainerOptions Defaults = new();

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

    public Option<float> PriorLossWeight { get; } = new("--prior-loss-weight") { HelpName = "W", Description = "Weight of the class images' loss.", DefaultValueFactory = _ => Defaults.PriorLossWeight };

    /// <summary>The options of <see cref="TrainerOptions"/>' properties, for error messages.</summary>
    private Dictionary<string, Option> TrainerOptionsByProperty => new(StringComparer.Ordinal)
    {
        [nameof(TrainerOptions.Rank)] = Rank, [nameof(TrainerOptions.Lambda)] = Lambda, [nameof(TrainerOptions.LearningRate)] = Lr,
        [nameof(TrainerOptions.TokenLearningRate)] = TokenLr, [nameof(TrainerOptions.Beta1)] = Beta1, [nameof(TrainerOptions.Beta2)] = Beta2,
        [nameof(TrainerOptions.WeightDecay)] = WeightDecay, [nameof(TrainerOptions.Epsilon)] = Epsilon, [nameof(TrainerOptions.WarmupSteps)] = Warmup,
        [nameof(TrainerOptions.MaxGradNorm)] = MaxGradNorm, [nameof(TrainerOptions.GradientAccumulation)] = GradAccum,
        [nameof(TrainerOptions.BatchSize)] = BatchSize, [nameof(TrainerOptions.Steps)] = Steps, [nameof(TrainerOptions.MinSnrGamma)] = MinSnrGamma,
        [nameof(TrainerOptions.NoiseOffset)] = NoiseOffset, [nameof(TrainerOptions.Resolution)] = Resolution,
        [nameof(TrainerOptions.CheckpointEvery)] = CheckpointEvery, [nameof(TrainerOptions.PriorLossWeight)] = PriorLossWeight,
    };

    /// <summary>Adds every option to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        Scheduler.AcceptOnlyFromAmong("constant", "cosine", "linear");
        foreach (Option option in new Option[]
        {
            Steps, Rank, Lambda, Resolution, Lr, TokenLr, Beta1, Beta2, WeightDecay, Epsilon, Scheduler, Warmup, MaxGradNorm, GradAccum,
            BatchSize, Seed, MinSnrGamma, NoiseOffset, CheckpointEvery, NoFlip, GradientCheckpointing, PriorLossWeight,
        })
            command.Options.Add(option);
    }

    /// <summary>The trainer's settings for <paramref name="method"/>, checked.</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names its option.</exception>
    public TrainerOptions Options(ParseResult parse, TrainingMethod method)
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
        Named(options.Validate, TrainerOptionsByProperty);
        return options;
    }

    /// <summary>Runs <paramref name="validate"/>, prefixing its error with the option the failing setting comes from.</summary>
    internal static void Named(Action validate, Dictionary<string, Option> byProperty)
    {
        try
        {
            validate();
        }
        catch (ArgumentException e) when (e.ParamName is { } property && byProperty.TryGetValue(property, out var option))
        {
            throw new ArgumentException($"{option.Name}: {e.Message.Replace($" (Parameter '{property}')", "", StringComparison.Ordinal)}", e);
        }
    }
}
