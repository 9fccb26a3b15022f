using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Text;
using IlgpuDiffusion.Model.TextEncoder;
using IlgpuDiffusion.Model.UNet;
using IlgpuDiffusion.Model.Vae;

namespace IlgpuDiffusion.CLora.Benchmarking;

/// <summary>
/// The networks a <see cref="PipelineBenchmark"/> runs: loaded from a checkpoint, or built from a config with random
/// weights (<see cref="WeightSet.Random"/>) and a tokenizer without merges, so no file is needed. Owns the networks.
/// <code>
/// using var device = Device.Open();
/// using var model = BenchmarkModel.Random("sd15", StableDiffusionConfig.StableDiffusion15, device, DType.F16);
/// var result = PipelineBenchmark.Run(model, new PipelineBenchmarkOptions { Repeats = 5 });
/// </code>
/// </summary>
public sealed class BenchmarkModel : IDisposable
{
    /// <summary>The shapes of the fixture model <c>tiny-sd</c> (UNet widths 32/32/64/64, 4-level VAE of widths 32/32/64/64, a 3-layer 32-wide text encoder).</summary>
    public static StableDiffusionConfig TinyConfig { get; } = new(
        UNetConfig.StableDiffusion15 with
        {
            SampleSize = 8,
            BlockOutChannels = [32, 32, 64, 64],
            CrossAttentionDim = 32,
        },
        VaeConfig.StableDiffusion15 with { BlockOutChannels = [32, 32, 64, 64], LayersPerBlock = 1, SampleSize = 64 },
        ClipTextConfig.VitL14 with { HiddenSize = 32, NumHiddenLayers = 3, NumAttentionHeads = 4, IntermediateSize = 64, ProjectionDim = 32 },
        null);

    private BenchmarkModel(string name, StableDiffusionConfig config, Device device, DType weights, ClipTokenizer tokenizer,
        ClipTextEncoder textEncoder, UNet2DCondition unet, AutoencoderKL vae)
    {
        (Name, Config, Device, Weights, Tokenizer, TextEncoder, UNet, Vae) = (name, config, device, weights, tokenizer, textEncoder, unet, vae);
    }

    /// <summary>"random sd15", "random tiny", or the checkpoint's path.</summary>
    public string Name { get; }

    public StableDiffusionConfig Config { get; }

    /// <summary>The device dtype of the weights (F32 or F16).</summary>
    public DType Weights { get; }

    public ClipTokenizer Tokenizer { get; }

    public ClipTextEncoder TextEncoder { get; }

    public UNet2DCondition UNet { get; }

    public AutoencoderKL Vae { get; }

    /// <summary>The device the networks live on.</summary>
    public Device Device { get; }

    /// <summary>The config of a random model by name: <c>sd15</c> (Stable Diffusion 1.5) or <c>tiny</c> (<see cref="TinyConfig"/>).</summary>
    /// <exception cref="ArgumentException">Another name; the message lists the two.</exception>
    public static StableDiffusionConfig RandomConfig(string name) => name.ToLowerInvariant() switch
    {
        "sd15" => StableDiffusionConfig.StableDiffusion15,
        "tiny" => TinyConfig,
        _ => throw new ArgumentException($"--random '{name}': expected sd15 or tiny.", nameof(name)),
    };

    /// <summary>Builds the networks of <paramref name="config"/> on <paramref name="device"/> with random weights of <paramref name="weights"/> drawn from <paramref name="seed"/>.</summary>
    public static BenchmarkModel Random(string name, StableDiffusionConfig config, Device device, DType weights, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(device);
        return Build($"random {name}", config, weights, ClipTokenizer.WithoutMerges(config.TextEncoder.VocabSize),
            WeightSet.Random(StableDiffusionConfig.TextEncoderFolder, device, weights, seed),
            WeightSet.Random(StableDiffusionConfig.UNetFolder, device, weights, seed + 1),
            WeightSet.Random(StableDiffusionConfig.VaeFolder, device, weights, seed + 2));
    }

    /// <summary>Builds the networks from an opened <paramref name="checkpoint"/> (which may be disposed afterwards).</summary>
    /// <exception cref="WeightsMismatchException">A network's tensors do not match its config.</exception>
    public static BenchmarkModel Load(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var model = Build(Path.GetFullPath(checkpoint.Source.ModelPath), checkpoint.Config, checkpoint.Source.Weights, checkpoint.LoadTokenizer(),
            checkpoint.TextEncoder, checkpoint.UNet, checkpoint.Vae);
        try
        {
            checkpoint.Complete(allowUnexpected: true);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        TextEncoder.Dispose();
        UNet.Dispose();
        Vae.Dispose();
    }

    private static BenchmarkModel Build(string name, StableDiffusionConfig config, DType weights, ClipTokenizer tokenizer,
        WeightSet text, WeightSet unet, WeightSet vae)
    {
        ClipTextEncoder? textEncoder = null;
        UNet2DCondition? network = null;
        try
        {
            textEncoder = new ClipTextEncoder(config.TextEncoder, text);
            network = new UNet2DCondition(config.UNet, unet);
            return new BenchmarkModel(name, config, unet.Device, weights, tokenizer, textEncoder, network, new AutoencoderKL(config.Vae, vae));
        }
        catch
        {
            textEncoder?.Dispose();
            network?.Dispose();
            throw;
        }
    }
}
