using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using IlgpuDiffusion.CLora;
using IlgpuDiffusion.CLora.Library;
using IlgpuDiffusion.CLora.Training;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Schedulers;
using IlgpuDiffusion.Model.TextEncoder;
using IlgpuDiffusion.Model.UNet;
using IlgpuDiffusion.Model.Vae;

namespace IlgpuDiffusion.Cli.Commands;

/// <summary>
/// <c>train --model M --library LIB --concept NAME --images DIR [options]</c>: learns one concept into a concept library.
/// The library is created when the folder has none (for this model, with the given method, λ and rank), otherwise it is
/// opened and checked against the model; its past concepts are restored (tokens, folded factors, past deltas), the new
/// task is trained with a progress line on stderr, resuming from the concept's latest checkpoint if there is one, and
/// is saved into the library (<see cref="LibraryTaskSink"/>). kv-finetune is not offered: its dense deltas are not
/// handed out by the trainer.
/// </summary>
internal static class TrainCommand
{
    private static readonly Dictionary<string, (TrainingMethod Training, LibraryMethod Library)> Methods = new(StringComparer.Ordinal)
    {
        [LibraryMethods.CLoraName] = (TrainingMethod.CLora, LibraryMethod.CLora),
        [LibraryMethods.LoraName] = (TrainingMethod.Lora, LibraryMethod.Lora),
        [LibraryMethods.TokenOnlyName] = (TrainingMethod.TokenOnly, LibraryMethod.TokenOnly),
    };

    public static Command Create()
    {
        var defaults = new TrainerOptions();
        var modelOptions = new ModelOptions();
        var library = new Option<string>("--library") { HelpName = "DIR", Description = "The concept library folder (created if it holds none).", Required = true };
        var concept = new Option<string>("--concept") { HelpName = "NAME", Description = "The new concept's name; its token is <NAME>.", Required = true };
        var images = new Option<string>("--images") { HelpName = "DIR", Description = "A folder of the concept's PNG/JPEG images (captions in NAME.txt beside them).", Required = true };
        var classWord = new Option<string?>("--class") { HelpName = "WORD", Description = "The concept's class word, recorded in the library." };
        var method = new Option<string?>("--method") { Description = "c-lora, lora or token-only (a new library's method; default c-lora; an existing library keeps its own)." };
        method.AcceptOnlyFromAmong([.. Methods.Keys]);
        var steps = new Option<int>("--steps") { Description = "Optimizer steps.", DefaultValueFactory = _ => defaults.Steps };
        var rank = new Option<int>("--rank") { Description = "LoRA rank.", DefaultValueFactory = _ => defaults.Rank };
        var lambda = new Option<float>("--lambda") { Description = "C-LoRA's regulariser weight λ.", DefaultValueFactory = _ => defaults.Lambda };
        var resolution = new Option<int>("--resolution") { HelpName = "PX", Description = "Training image size.", DefaultValueFactory = _ => defaults.Resolution };
        var lr = new Option<float>("--lr") { Description = "Adapter learning rate.", DefaultValueFactory = _ => defaults.LearningRate };
        var tokenLr = new Option<float>("--token-lr") { Description = "Token embedding learning rate.", DefaultValueFactory = _ => defaults.TokenLearningRate };
        var batchSize = new Option<int>("--batch-size") { Description = "Examples per step.", DefaultValueFactory = _ => defaults.BatchSize };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the adapters, token and batches.", DefaultValueFactory = _ => defaults.Seed };
        var checkpointEvery = new Option<int>("--checkpoint-every") { HelpName = "N", Description = "Save a resumable checkpoint every N steps (0: never)." };
        var noFlip = new Option<bool>("--no-flip") { Description = "Do not add horizontally flipped images." };
        var device = CommonOptions.Device();
        var command = new Command("train", "Learn a new concept into a concept library (C-LoRA continual customization).");
        modelOptions.AddTo(command);
        foreach (Option option in new Option[] { library, concept, images, classWord, method, steps, rank, lambda, resolution, lr, tokenLr, batchSize, seed, checkpointEvery, noFlip, device })
            command.Options.Add(option);
        command.SetAction(parse =>
        {
            string name = parse.GetValue(concept)!;
            if (!ConceptRecord.IsValidName(name)) throw new ArgumentException($"'{name}' is not a valid concept name.");
            var (trainingMethod, libraryMethod) = Methods[parse.GetValue(method) ?? LibraryMethods.CLoraName];
            var options = new TrainerOptions
            {
                Method = trainingMethod,
                Steps = parse.GetValue(steps),
                Rank = parse.GetValue(rank),
                Lambda = parse.GetValue(lambda),
                Resolution = parse.GetValue(resolution),
                LearningRate = parse.GetValue(lr),
                TokenLearningRate = parse.GetValue(tokenLr),
                BatchSize = parse.GetValue(batchSize),
                Seed = parse.GetValue(seed),
                CheckpointEvery = parse.GetValue(checkpointEvery),
                FlipHorizontal = !parse.GetValue(noFlip),
            };
            var source = modelOptions.Source(parse);
            var identity = ModelIdentity.Compute(source.ModelPath);
            var lib = OpenOrCreate(parse.GetValue(library)!, identity, new LibrarySettings
            {
                Method = libraryMethod,
                Lambda = options.Lambda,
                Rank = libraryMethod.StoresFactors() ? options.Rank : 0,
                TargetPattern = AdapterOptions.CrossAttentionKeyValue,
            });
            if (parse.GetValue(method) is not null && lib.Settings.Method != libraryMethod)
                throw new ArgumentException($"library '{lib.Folder}' is a {lib.Settings.Method.Name()} library; --method {libraryMethod.Name()} does not match it.");
            if (lib.Concepts.Any(c => c.Name == name)) throw new ArgumentException($"concept '{name}' is already in library '{lib.Folder}'.");
            options = options with { Method = Methods[lib.Settings.Method.Name()].Training, Lambda = (float)lib.Settings.Lambda };

            using var opened = CommonOptions.OpenDevice(parse.GetValue(device));
            using var checkpoint = CheckpointLoader.Open(source, opened);
            using var unet = UNet2DCondition.Load(checkpoint);
            using var textEncoder = new ClipTextEncoder(checkpoint.Config.TextEncoder, checkpoint.TextEncoder);
            using var vae = new AutoencoderKL(checkpoint.Config.Vae, checkpoint.Vae);
            var tokenizer = checkpoint.LoadTokenizer();
            using var tokens = new ConceptTokens(tokenizer, textEncoder);
            using var past = LibraryState.Restore(lib, unet, tokens, opened);
            var token = tokens.Add(ConceptLibrary.TokenText(name), options.Seed);
            var schedule = new NoiseSchedule(SchedulerConfig.Load(checkpoint.Config.SchedulerConfigPath
                ?? throw new InvalidOperationException("the model has no scheduler config; give one with --config.")));
            var data = ConceptDataset.Load(parse.GetValue(images)!, token.Text, tokenizer, vae, opened, options);

            var latest = lib.LatestCheckpoint(name);
            if (latest is not null) Console.Error.WriteLine($"resuming {name} from step {latest.Step} ({latest.Path})");
            var sink = new LibraryTaskSink(lib, name, parse.GetValue(classWord));
            var clock = Stopwatch.StartNew();
            var run = new TrainingRun
            {
                CheckpointPath = latest?.Path ?? (options.CheckpointEvery > 0 ? lib.CheckpointPath(name, 0) : null),
                Resume = latest is not null,
                Progress = p => Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"step {p.Step}/{options.Steps}  loss {p.Loss:G5}  mse {p.Mse:G5}  reg {p.Regularizer:G5}  {p.Step / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):F2} it/s")),
            };
            var task = new CLoraTrainer(unet, textEncoder, tokens, past, schedule).Train(data.Batches(opened, options, schedule.TrainTimesteps), options, sink, run);
            var added = sink.Added!;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"learned {added.Token} (id {added.TokenId}) as task {added.Task} of {lib.Folder}: {lib.Settings.Method.Name()}, {options.Steps} steps, " +
                $"{task.Factors.Count} adapted layers, {added.Record.TrainedParameters:N0} trained parameters, {clock.Elapsed.TotalSeconds:F1} s"));
            return 0;
        });
        return command;
    }

    /// <summary>Opens the library in <paramref name="folder"/> and checks its model, or creates one there when it has none.</summary>
    private static ConceptLibrary OpenOrCreate(string folder, ModelIdentity model, LibrarySettings settings)
    {
        if (!File.Exists(Path.Combine(folder, "library.json"))) return ConceptLibrary.Create(folder, model, settings);
        var library = ConceptLibrary.Open(folder);
        library.CheckModel(model);
        return library;
    }
}
