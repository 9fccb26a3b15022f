using System.CommandLine;
using System.Globalization;
using IlgpuDiffusion.CLora.Library;
using IlgpuDiffusion.CLora.Training;
using IlgpuDiffusion.Cli.Train;
using IlgpuDiffusion.Evaluation.Extractors;
using IlgpuDiffusion.Evaluation.Protocol;
using IlgpuDiffusion.Evaluation.Scoring;

namespace IlgpuDiffusion.Cli.Commands;

/// <summary>
/// <c>evaluate-sequence --model M --concepts FILE --method METHOD --clip PATH [--dino PATH] --out DIR [options]</c>:
/// runs the continual-customization protocol (<see cref="SequenceEvaluation"/>) for one method, resuming an interrupted
/// run, and rewrites DIR's manifest, scores and report over every method evaluated into DIR so far.
/// </summary>
internal static class EvaluateSequenceCommand
{
    public static Command Create()
    {
        var trainerOptions = new TrainerOptionSet();
        var sampling = new SamplingSettings();
        var modelOptions = new ModelOptions();
        var concepts = new Option<string>("--concepts") { HelpName = "FILE", Description = "JSON list of {\"name\", \"images\", \"class\"} in learning order (folders relative to the file).", Required = true };
        var method = new Option<string>("--method") { Description = "c-lora, lora, kv-finetune or token-only.", DefaultValueFactory = _ => LibraryMethods.CLoraName };
        method.AcceptOnlyFromAmong([.. TrainingMethods.Names]);
        var perConcept = new Option<int>("--images-per-concept") { HelpName = "N", Description = "N fidelity images and N context images per concept and task (at least 2).", DefaultValueFactory = _ => 4 };
        var clip = new Option<string>("--clip") { HelpName = "PATH", Description = "A Hugging Face CLIP folder (CLIP-I, CLIP-T, KID-CLIP).", Required = true };
        var dino = new Option<string?>("--dino") { HelpName = "PATH", Description = "A Hugging Face DINO ViT folder (DINO-I)." };
        var output = new Option<string>("--out") { HelpName = "DIR", Description = "The evaluation folder (several methods can share it).", Required = true };
        var contextPrompts = new Option<string?>("--context-prompts") { HelpName = "FILE", Description = "Context prompts with a {} slot (JSON array or one a line), replacing the built-in lists." };
        var maxTasks = new Option<int?>("--max-tasks") { HelpName = "N", Description = "Stop after N tasks (a later run continues)." };
        var scheduler = new Option<string?>("--scheduler") { Description = "Sampler: ddim, pndm, euler, euler-a, dpmpp-2m, lms or ddpm (default: the model's)." };
        var sampleSteps = new Option<int>("--sample-steps") { Description = "Denoising steps per image.", DefaultValueFactory = _ => sampling.Steps };
        var guidance = new Option<double>("--guidance") { Description = "Classifier-free guidance scale.", DefaultValueFactory = _ => sampling.Guidance };
        var sampleSeed = new Option<long>("--sample-seed") { Description = "Base seed of the paired sampling seeds.", DefaultValueFactory = _ => sampling.Seed };
        var device = CommonOptions.Device();
        var command = new Command("evaluate-sequence", "Learn concepts in order with one method and measure forgetting (CLIP-I, DINO-I, CLIP-T, KID) after every task.");
        modelOptions.AddTo(command);
        trainerOptions.AddTo(command);
        foreach (Option option in new Option[]
        {
            concepts, method, perConcept, clip, dino, output, contextPrompts, maxTasks, scheduler, sampleSteps, guidance, sampleSeed, device,
        })
            command.Options.Add(option);
        command.SetAction(parse =>
        {
            var trainer = trainerOptions.Options(parse, TrainingMethods.Parse(parse.GetValue(method)!));
            var source = modelOptions.Source(parse);
            var settings = new SequenceSettings
            {
                Concepts = ConceptSpec.LoadList(parse.GetValue(concepts)!),
                Method = parse.GetValue(method)!,
                Model = ModelIdentity.Compute(source.ModelPath).Sha256,
                ImagesPerConcept = parse.GetValue(perConcept),
                Sampling = new SamplingSettings
                {
                    Scheduler = parse.GetValue(scheduler),
                    Steps = parse.GetValue(sampleSteps),
                    Guidance = parse.GetValue(guidance),
                    Resolution = trainer.Resolution,
                    Seed = parse.GetValue(sampleSeed),
                },
                ContextPrompts = parse.GetValue(contextPrompts) is { } file ? ContextPrompts.Load(file) : null,
                Trainer = new
                {
                    trainer.Steps, trainer.Rank, trainer.Lambda, trainer.Resolution, trainer.LearningRate, trainer.TokenLearningRate, trainer.BatchSize,
                    trainer.Seed, trainer.Beta1, trainer.Beta2, trainer.WeightDecay, trainer.Epsilon, Schedule = trainer.Schedule.ToString(), trainer.WarmupSteps,
                    trainer.MaxGradNorm, trainer.GradientAccumulation, trainer.MinSnrGamma, trainer.NoiseOffset, trainer.FlipHorizontal,
                    trainer.GradientCheckpointing, trainer.PriorLossWeight,
                },
            };
            settings.Validate();
            using var opened = CommonOptions.OpenDevice(parse.GetValue(device));
            using var clipModel = ClipModel.Load(parse.GetValue(clip)!, opened);
            using var dinoModel = parse.GetValue(dino) is { } dinoPath ? DinoModel.Load(dinoPath, opened) : null;
            var evaluation = new SequenceEvaluation(parse.GetValue(output)!, settings, new TeacherLearner(source, opened, trainer),
                new LibrarySampler(source, opened), FeatureExtractors.Of(clipModel, dinoModel));
            var state = evaluation.Run(new SequenceRun { Log = line => Console.Error.WriteLine(line), StopAfterTasks = parse.GetValue(maxTasks) });
            var folder = new EvaluationFolder(parse.GetValue(output)!);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{settings.Method}: {state.Tasks.Count(t => t.Embedded)} of {settings.Concepts.Count} tasks done; report {folder.Report}"));
            return 0;
        });
        return command;
    }
}
