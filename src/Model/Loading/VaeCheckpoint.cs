using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.SafeTensors;

namespace IlgpuDiffusion.Model.Loading;

/// <summary>
/// A VAE read from its own <c>.safetensors</c> file (<c>--vae FILE</c>), to replace a checkpoint's VAE: a diffusers
/// <c>vae/diffusion_pytorch_model.safetensors</c> (diffusers names), a single-file checkpoint whose
/// <c>first_stage_model.*</c> tensors are used (the rest of the file is ignored), or a plain LDM VAE such as
/// <c>vae-ft-mse-840000-ema-pruned.safetensors</c> (<c>encoder.down.0.block.0…</c>; its <c>loss.*</c> and
/// <c>model_ema.*</c> training tensors are ignored). Names map to diffusers names with the loaders' own VAE mapping
/// (<see cref="VaeNames"/>), built from the model's <see cref="VaeConfig"/>, which the file must match.
/// <code>
/// using var vaeFile = VaeCheckpoint.Open("vae-ft-mse.safetensors", checkpoint.Config.Vae, device, DType.F32);
/// using var vae = new AutoencoderKL(checkpoint.Config.Vae, vaeFile.Weights);
/// vaeFile.Complete();
/// </code>
/// </summary>
public sealed class VaeCheckpoint : IDisposable
{
    private static readonly string[] IgnoredPrefixes = ["loss.", "model_ema."];
    private static readonly string[] Coders = ["encoder.", "decoder."];

    private readonly SafeTensorsReader reader;

    private VaeCheckpoint(SafeTensorsReader reader, WeightSet weights)
    {
        this.reader = reader;
        Weights = weights;
    }

    /// <summary>The file's full path.</summary>
    public string FilePath => reader.Path;

    /// <summary>The VAE's tensors under diffusers names (keep this object open while a model takes them).</summary>
    public WeightSet Weights { get; }

    /// <summary>Opens <paramref name="path"/> for a VAE of architecture <paramref name="config"/>, its weights loading as <paramref name="weights"/>.</summary>
    /// <exception cref="CheckpointException">The file is missing, a pickle file, or holds no VAE tensors.</exception>
    public static VaeCheckpoint Open(string path, VaeConfig config, Device device, DType weights)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(device);
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath)) throw new CheckpointException(fullPath, "no such VAE file");
        var reader = CheckpointLoader.OpenFile(fullPath);
        try
        {
            var entries = Entries(reader, config);
            if (!entries.Any(e => Coders.Any(coder => e.Name.StartsWith(coder, StringComparison.Ordinal))))
                throw new CheckpointException(fullPath, "holds no VAE tensors (expected diffusers names such as 'decoder.up_blocks.0.resnets.0.conv1.weight', " +
                    $"LDM names such as 'decoder.up.0.block.0.conv1.weight', or a single file's '{SingleFileLayout.VaePrefix}*')");
            return new VaeCheckpoint(reader, new WeightSet(StableDiffusionConfig.VaeFolder, device, weights, entries));
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Call after the VAE took its weights: throws a <see cref="CheckpointException"/> naming the file and listing
    /// every missing, wrong-shaped and unused tensor.
    /// </summary>
    public void Complete()
    {
        var report = Weights.Report();
        if (!report.IsClean) throw new CheckpointException(FilePath, $"the VAE file does not match the model's VAE:\n{report}");
    }

    public void Dispose() => reader.Dispose();

    /// <summary>The file's VAE tensors under diffusers names, whichever of the three dialects it uses.</summary>
    private static List<WeightEntry> Entries(SafeTensorsReader reader, VaeConfig config)
    {
        var tensors = reader.Tensors;
        bool singleFile = tensors.Any(t => t.Name.StartsWith(SingleFileLayout.VaePrefix, StringComparison.Ordinal));
        var vae = singleFile
            ? SingleFileLayout.Of(reader).Vae.Select(pair => (Name: pair.Key, Info: pair.Value))
            : tensors.Where(t => !IgnoredPrefixes.Any(p => t.Name.StartsWith(p, StringComparison.Ordinal))).Select(t => (t.Name, Info: t));
        var list = vae.ToList();
        bool ldm = singleFile || list.Any(t => t.Name.Contains(".down.", StringComparison.Ordinal) || t.Name.Contains(".up.", StringComparison.Ordinal)
                                             || t.Name.Contains(".mid.", StringComparison.Ordinal));
        var names = ldm ? VaeNames.FromLdm(config) : VaeNames.Diffusers;
        return [.. list.Select(t =>
        {
            var name = names.Map(t.Name) ?? t.Name;
            return new WeightEntry(name, reader, t.Info, VaeNames.Shape(name, t.Info.Shape));
        })];
    }
}
