using System.Diagnostics;
using System.Globalization;
using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.CLora.Training;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Benchmarking;
using IlgpuDiffusion.Model.Schedulers;
using IlgpuDiffusion.Model.Text;

namespace IlgpuDiffusion.CLora.Benchmarking;

/// <summary>
/// The end-to-end benchmark (the console's <c>bench</c>): on a <see cref="BenchmarkModel"/>, after
/// <see cref="PipelineBenchmarkOptions.Warmup"/> untimed runs, times <see cref="PipelineBenchmarkOptions.Repeats"/>
/// runs of each stage of text-to-image and of training, the device synchronized before and after each run:
/// <list type="bullet">
/// <item><c>text-encode</c>: the text encoder on 2 × batch prompts (unconditional and conditional, for guidance);</item>
/// <item><c>unet-cfg-step</c>: one UNet forward on 2 × batch latents, a classifier-free-guidance denoising step
/// (the scheduler's elementwise update is not included);</item>
/// <item><c>vae-decode</c>: the VAE decoder on batch latents;</item>
/// <item><c>train-step</c>: one C-LoRA optimizer step of <see cref="CLoraTrainer"/> (task 1, rank
/// <see cref="PipelineBenchmarkOptions.Rank"/> adapters on every cross-attention K/V, a trained concept token) on batch
/// random latents at the image size: text encoder and UNet forward, backward, gradient clipping and AdamW. Its FLOP
/// count is 2 × the forward's (frozen weights get no weight-gradient GEMMs, so the backward costs about one forward);
/// the adapters' own FLOPs are negligible and not counted. It runs last, since it folds its adapters into the UNet.</item>
/// </list>
/// </summary>
public static class PipelineBenchmark
{
    private const string Prompt = "a photograph of an astronaut riding a horse";
    private const string ConceptToken = "<bench-concept>";

    /// <summary>
    /// Runs the benchmark; <paramref name="log"/> hears about each stage as it starts. A model runs one benchmark: the
    /// training stage adds a concept token to its tokenizer and folds the trained adapters into its UNet.
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range (see <see cref="PipelineBenchmarkOptions.Resolve"/>).</exception>
    /// <exception cref="InvalidOperationException">The model's tokenizer has added tokens (it ran a benchmark already).</exception>
    public static PipelineBenchmarkResult Run(BenchmarkModel model, PipelineBenchmarkOptions options, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        if (model.Tokenizer.AddedTokens.Count > 0)
            throw new InvalidOperationException(
                $"{model.Name}: the tokenizer has added tokens, so this model ran a benchmark already (its training stage changes it); build a new BenchmarkModel.");
        var (width, height) = options.Resolve(model.Config);
        var device = model.Device;
        var config = model.Config;
        int factor = 1 << (config.Vae.Levels - 1), latentHeight = height / factor, latentWidth = width / factor, batch = options.Batch;
        device.Synchronize();
        long weightBytes = device.Memory.LiveBytes;
        var stages = new List<BenchmarkStage>();

        var ids = Ids(model.Tokenizer, batch);
        using (Grad.NoGrad())
        using (var idTensor = Tensor.FromHost(device, ids, 2 * batch, ClipTokenizer.MaxLength))
        using (var context = Var.Constant(Encoded(model, idTensor)))
        using (var latents = Normal(device, options.Seed, 2 * batch, latentHeight, latentWidth, config.UNet.InChannels))
        using (var timestep = Tensor.FromHost(device, [999], 1))
        {
            Log(log, "text-encode");
            stages.Add(Measure(device, options, "text-encode", $"text encoder, {2 * batch} prompts × {ClipTokenizer.MaxLength} tokens",
                ModelFlops.TextEncoder(config.TextEncoder, 2 * batch), () => model.TextEncoder.Encode(idTensor)));
            Log(log, "unet-cfg-step");
            stages.Add(Measure(device, options, "unet-cfg-step", $"UNet forward, {2 * batch} × {latentWidth}x{latentHeight} latents (guidance)",
                ModelFlops.UNetForward(config.UNet, 2 * batch, latentHeight, latentWidth), () => model.UNet.Forward(latents, timestep, context)));
            using var decodable = Normal(device, options.Seed + 1, batch, latentHeight, latentWidth, config.Vae.LatentChannels);
            Log(log, "vae-decode");
            stages.Add(Measure(device, options, "vae-decode", $"VAE decoder, {batch} × {latentWidth}x{latentHeight} latents → {width}x{height}",
                ModelFlops.VaeDecode(config.Vae, batch, latentHeight, latentWidth), () => model.Vae.Decode(decodable)));
        }
        Log(log, "train-step");
        stages.Add(TrainingStage(model, options, batch, latentHeight, latentWidth));

        var peak = DevicePeak.Of(device);
        bool tensorCores = model.Weights == DType.F16 && KernelPolicy.TensorCores;
        return new PipelineBenchmarkResult(device.Name, device.Kind, model.Name, model.Weights, width, height, batch, options.Warmup, options.Repeats,
            weightBytes, tensorCores ? peak.Fp16TensorTFlops : peak.Fp32TFlops, tensorCores ? "fp16 tensor-core peak" : "fp32 peak",
            stages, DateTimeOffset.UtcNow, BuildInfo.Commit());
    }

    /// <summary>Warm-up runs, then timed runs of <paramref name="run"/> (its result disposed after the clock stops), with the stage's memory peaks.</summary>
    private static BenchmarkStage Measure(Device device, PipelineBenchmarkOptions options, string name, string description, double flops,
        Func<IDisposable> run)
    {
        device.Synchronize();
        device.Memory.ResetPeak();
        for (int i = 0; i < options.Warmup; i++)
        {
            using var result = run();
            device.Synchronize();
        }
        var times = new List<double>();
        for (int i = 0; i < options.Repeats; i++)
        {
            device.Synchronize();
            var clock = Stopwatch.StartNew();
            using var result = run();
            device.Synchronize();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return Finish(device, name, description, flops, times);
    }

    /// <summary>Warm-up + repeats optimizer steps of one C-LoRA task; each step's time is the interval between the trainer's progress reports.</summary>
    private static BenchmarkStage TrainingStage(BenchmarkModel model, PipelineBenchmarkOptions options, int batch, int latentHeight, int latentWidth)
    {
        var device = model.Device;
        var config = model.Config;
        var schedule = new NoiseSchedule(config.SchedulerConfigPath is { } path ? SchedulerConfig.Load(path) : SchedulerConfig.StableDiffusion15);
        using var tokens = new ConceptTokens(model.Tokenizer, model.TextEncoder);
        tokens.Add(ConceptToken, options.Seed);
        using var past = new PastDeltas();
        var trainer = new CLoraTrainer(model.UNet, model.TextEncoder, tokens, past, schedule);
        var trainerOptions = new TrainerOptions
        {
            Rank = options.Rank,
            Steps = options.Warmup + options.Repeats,
            BatchSize = batch,
            Resolution = Math.Max(latentHeight, latentWidth) * (1 << (config.Vae.Levels - 1)),
            Seed = options.Seed,
        };
        var batches = new RandomBatchSource(device, model.Tokenizer.Encode($"a photo of {ConceptToken}"),
            [batch, latentHeight, latentWidth, config.UNet.InChannels], schedule.TrainTimesteps, options.Seed);
        var times = new List<double>();
        device.Synchronize();
        device.Memory.ResetPeak();
        var clock = Stopwatch.StartNew();
        var run = new TrainingRun
        {
            Progress = progress =>
            {
                device.Synchronize();
                if (progress.Step > options.Warmup) times.Add(clock.Elapsed.TotalMilliseconds);
                clock.Restart();
            },
        };
        trainer.Train(batches, trainerOptions, new InMemoryTaskSink(), run);
        double flops = 2 * (ModelFlops.TextEncoder(config.TextEncoder, batch) + ModelFlops.UNetForward(config.UNet, batch, latentHeight, latentWidth));
        return Finish(device, "train-step", string.Create(CultureInfo.InvariantCulture,
            $"C-LoRA step (rank {options.Rank}), {batch} × {latentWidth}x{latentHeight} latents: forward, backward, AdamW"), flops, times);
    }

    private static BenchmarkStage Finish(Device device, string name, string description, double flops, List<double> times) =>
        new(name, description, flops, times, device.Memory.PeakLiveBytes, device.Memory.PeakReservedBytes, DriverMemory.UsedBytes(device));

    /// <summary>[uncond × batch; cond × batch] input ids, as the pipeline encodes them for guidance.</summary>
    private static int[] Ids(ClipTokenizer tokenizer, int batch)
    {
        var uncond = tokenizer.Encode("");
        var cond = tokenizer.Encode(Prompt);
        return [.. Enumerable.Repeat(uncond, batch).SelectMany(ids => ids), .. Enumerable.Repeat(cond, batch).SelectMany(ids => ids)];
    }

    /// <summary>The text encoder's last hidden state of <paramref name="ids"/>, the UNet's context.</summary>
    private static Tensor Encoded(BenchmarkModel model, Tensor ids)
    {
        using var output = model.TextEncoder.Encode(ids);
        return output.LastHiddenState.Value.Share();
    }

    private static Var Normal(Device device, ulong seed, params int[] shape)
    {
        var tensor = Tensor.Empty(device, DType.F32, shape);
        Philox.Normal(tensor, seed);
        return Var.Constant(tensor);
    }

    private static void Log(Action<string>? log, string stage) => log?.Invoke(stage);
}
