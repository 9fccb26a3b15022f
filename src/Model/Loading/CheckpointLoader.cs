using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.SafeTensors;

namespace IlgpuDiffusion.Model.Loading;

/// <summary>
/// Opens an SD 1.x checkpoint, a diffusers folder or a single-file LDM <c>.safetensors</c>, into a
/// <see cref="Checkpoint"/> whose weight sets use diffusers names in both cases. Pickle files (<c>.ckpt</c>,
/// <c>.pt</c>, <c>.pth</c>, <c>.bin</c>) are refused with instructions to convert them.
/// <code>
/// using var checkpoint = CheckpointLoader.Open(new ModelSource("sd15.safetensors") { ConfigFolder = "sd15-diffusers" }, device);
/// var unet = new UNet2DCondition(checkpoint.Config.UNet, checkpoint.UNet);   // takes its weights
/// checkpoint.UNet.Complete();                                                 // reports what did not match
/// </code>
/// </summary>
public static class CheckpointLoader
{
    /// <summary>Opens <paramref name="source"/>; weights are loaded onto <paramref name="device"/> as they are taken.</summary>
    public static Checkpoint Open(ModelSource source, Device device)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(device);
        var path = Path.GetFullPath(source.ModelPath);
        if (source.ConfigFolder is { } configFolder && !Directory.Exists(configFolder))
            throw new CheckpointException(Path.GetFullPath(configFolder), "the --config folder does not exist");
        if (Directory.Exists(path)) return DiffusersFolderLoader.Open(source, path, device);
        if (!File.Exists(path)) throw new CheckpointException(path, "no such file or folder");
        return SingleFileLoader.Open(source, path, device);
    }

    /// <summary>
    /// The safetensors files that hold a model's weights, as the loader would pick them, in a fixed order: the
    /// <c>unet/</c>, <c>vae/</c> and <c>text_encoder/</c> weights of a diffusers folder, or the single file itself.
    /// Nothing is read beyond the folder listing; a pickle file is refused.
    /// </summary>
    public static IReadOnlyList<string> WeightFiles(string modelPath)
    {
        var path = Path.GetFullPath(modelPath);
        if (Directory.Exists(path)) return DiffusersFolderLoader.WeightFiles(path);
        if (!File.Exists(path)) throw new CheckpointException(path, "no such file or folder");
        if (PickleGuard.HasPickleExtension(path)) throw PickleGuard.Refusal(path);
        return [path];
    }

    /// <summary>Opens a safetensors file, refusing pickle files by extension or, when parsing fails, by their first bytes.</summary>
    internal static SafeTensorsReader OpenFile(string path)
    {
        if (PickleGuard.HasPickleExtension(path)) throw PickleGuard.Refusal(path);
        try
        {
            return SafeTensorsReader.Open(path);
        }
        catch (SafeTensorsFormatException e) when (PickleGuard.StartsLikePickle(path))
        {
            throw PickleGuard.Refusal(path, e);
        }
    }

    /// <summary>The first of <c>folder/component/config.json</c> over <paramref name="folders"/> that exists, loaded; else null.</summary>
    internal static T? ConfigIn<T>(IEnumerable<string?> folders, string component, Func<string, T> load) where T : class =>
        folders.OfType<string>().Select(folder => Path.Combine(folder, component, StableDiffusionConfig.ConfigFileName)).FirstOrDefault(File.Exists) is { } path
            ? load(Path.GetFullPath(path))
            : null;

    /// <summary>The <paramref name="explicitFolder"/> when given, else the first <c>folder/tokenizer</c> that exists, else null.</summary>
    internal static string? TokenizerIn(string? explicitFolder, IEnumerable<string?> folders) => explicitFolder is not null
        ? Path.GetFullPath(explicitFolder)
        : folders.OfType<string>().Select(folder => Path.GetFullPath(Path.Combine(folder, StableDiffusionConfig.TokenizerFolder))).FirstOrDefault(Directory.Exists);

    /// <summary>The first scheduler config over <paramref name="folders"/>, or null.</summary>
    internal static string? SchedulerIn(IEnumerable<string?> folders) =>
        folders.OfType<string>().Select(StableDiffusionConfig.SchedulerConfigIn).FirstOrDefault(path => path is not null);
}
