using System.CommandLine;
using System.Globalization;
using IlgpuDiffusion.Cli.Bench;
using IlgpuDiffusion.CLora.Benchmarking;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Benchmarking;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Pipelines;

namespace IlgpuDiffusion.Cli.Commands;

/// <summary>
/// <c>bench [--model PATH | --random sd15|tiny] [--width --height --steps --warmup --batch --rank --weights --json --device --force]</c>:
/// the end-to-end benchmark (<see cref="PipelineBenchmark"/>) of text encoding, a UNet guidance step, VAE decoding and a
/// C-LoRA training step, printed as a table (or one JSON document with <c>--json</c>). Without <c>--model</c> it builds
/// a model with random weights: SD 1.5's shapes on a GPU, the tiny fixture's on the CPU accelerator, where a full-size
/// model is refused without <c>--force</c>.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var modelOptions = new ModelOptions(modelRequired: false);
        var random = new Option<string?>("--random")
        {
            Description = "Random weights of these shapes instead of a checkpoint: sd15 or tiny (default: sd15 on a GPU, tiny on the CPU).",
        };
        var width = new Option<int?>("--width") { Description = "Image width in pixels (default: the model's, 512 for SD 1.5)." };
        var height = new Option<int?>("--height") { Description = "Image height in pixels (default: the model's)." };
        var steps = new Option<int>("--steps") { Description = "Timed runs of each stage (the median is reported).", DefaultValueFactory = _ => 3 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed runs of each stage first.", DefaultValueFactory = _ => 1 };
        var batch = new Option<int>("--batch") { Description = "Images per run (the UNet guidance step runs twice as many samples).", DefaultValueFactory = _ => 1 };
        var rank = new Option<int>("--rank") { Description = "LoRA rank of the training step's adapters.", DefaultValueFactory = _ => 16 };
        var json = new Option<bool>("--json") { Description = "Print one JSON document instead of the table." };
        var force = new Option<bool>("--force") { Description = "Run a full-size model on the CPU accelerator even though it takes hours." };
        var device = CommonOptions.Device();
        var command = new Command("bench", "Time text encoding, a UNet guidance step, VAE decoding and a C-LoRA training step, against the roofline.");
        modelOptions.AddTo(command);
        foreach (Option option in new Option[] { random, width, height, steps, warmup, batch, rank, json, device, force }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var options = new PipelineBenchmarkOptions
            {
                Width = parse.GetValue(width),
                Height = parse.GetValue(height),
                Repeats = parse.GetValue(steps),
                Warmup = parse.GetValue(warmup),
                Batch = parse.GetValue(batch),
                Rank = parse.GetValue(rank),
            };
            string? modelPath = parse.GetValue(modelOptions.Model), randomName = parse.GetValue(random);
            if (modelPath is not null && randomName is not null) throw new ArgumentException("give either --model PATH or --random sd15|tiny, not both.");
            var weights = ModelSource.ParseWeights(parse.GetValue(modelOptions.Weights)!);
            if (randomName is not null) BenchmarkModel.RandomConfig(randomName); // a bad name fails before a device opens
            using var opened = CommonOptions.OpenDevice(parse.GetValue(device));
            using var model = Open(modelOptions, parse, modelPath, randomName, weights, opened,
                config => Check(config, options, opened, parse.GetValue(force)));
            var result = PipelineBenchmark.Run(model, options, stage => Console.Error.WriteLine($"running {stage}…"));
            Console.Write(parse.GetValue(json) ? result.ToJson() + Environment.NewLine : BenchTable.Format(result));
            return 0;
        });
        return command;
    }

    /// <summary>Loads the checkpoint or builds the random model, after <paramref name="check"/> has accepted its config.</summary>
    private static BenchmarkModel Open(ModelOptions modelOptions, ParseResult parse, string? modelPath, string? randomName, DType weights,
        Device device, Action<StableDiffusionConfig> check)
    {
        if (modelPath is not null)
        {
            using var checkpoint = CheckpointLoader.Open(modelOptions.Source(parse), device);
            check(checkpoint.Config);
            return BenchmarkModel.Load(checkpoint);
        }
        var name = randomName ?? (device.IsCpu ? "tiny" : "sd15");
        var config = BenchmarkModel.RandomConfig(name);
        check(config);
        return BenchmarkModel.Random(name, config, device, weights);
    }

    /// <summary>Checks the options against the model and refuses a full-size model on the CPU accelerator unless forced.</summary>
    private static void Check(StableDiffusionConfig config, PipelineBenchmarkOptions options, Device device, bool force)
    {
        var (width, height) = options.Resolve(config);
        if (!device.IsCpu || config.UNet.BlockOutChannels[0] < GenerationPlan.FullSizeWidth) return;
        int factor = 1 << (config.Vae.Levels - 1), runs = options.Warmup + options.Repeats;
        double flops = runs * (ModelFlops.TextEncoder(config.TextEncoder, 2 * options.Batch)
                               + 3 * ModelFlops.UNetForward(config.UNet, 2 * options.Batch, height / factor, width / factor)
                               + ModelFlops.VaeDecode(config.Vae, options.Batch, height / factor, width / factor));
        double hours = flops / GenerationPlan.CpuAcceleratorFlopsPerSecond / 3600;
        var estimate = string.Create(CultureInfo.InvariantCulture,
            $"a full-size model on the CPU accelerator: {runs} runs of every stage ≈ {flops / 1e12:F0} TFLOP, an estimated {hours:F0} hours " +
            $"at ~{GenerationPlan.CpuAcceleratorFlopsPerSecond / 1e9:F1} GFLOP/s");
        if (!force) throw new InvalidOperationException($"{estimate}. Run it on a GPU (--device cuda), use --random tiny, or pass --force to start anyway.");
        Console.Error.WriteLine($"warning: {estimate}; starting anyway (--force).");
    }
}
