using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.SafeTensors;

namespace IlgpuDiffusion.Model.Loading;

/// <summary>
/// Opens a diffusers folder: each of <c>unet/</c>, <c>vae/</c> and <c>text_encoder/</c> holds a config.json and
/// its weights, preferably <c>diffusion_pytorch_model.safetensors</c> (<c>model.safetensors</c> for the text
/// encoder), else the <c>.fp16.safetensors</c> variant, else the folder's only <c>.safetensors</c> file. Names are
/// already diffusers names, except VAE attention names of diffusers before 0.14, which are renamed (see
/// <see cref="VaeNames"/>). A <c>--config</c> folder's configs take precedence over the folder's own.
/// </summary>
internal static class DiffusersFolderLoader
{
    private const string ModelIndex = "model_index.json";
    private const string DiffusersWeights = "diffusion_pytorch_model";
    private const string TransformersWeights = "model";

    public static Checkpoint Open(ModelSource source, string folder, Device device)
    {
        string[] components = [StableDiffusionConfig.UNetFolder, StableDiffusionConfig.VaeFolder, StableDiffusionConfig.TextEncoderFolder];
        if (!File.Exists(Path.Combine(folder, ModelIndex)) && !components.All(c => Directory.Exists(Path.Combine(folder, c))))
            throw new CheckpointException(folder, $"this folder is not a diffusers model: it has no {ModelIndex} and not all of {string.Join("/, ", components)}/");
        string?[] configFolders = [source.ConfigFolder, folder];
        var config = new StableDiffusionConfig(
            Config(configFolders, folder, StableDiffusionConfig.UNetFolder, UNetConfig.Load),
            Config(configFolders, folder, StableDiffusionConfig.VaeFolder, VaeConfig.Load),
            Config(configFolders, folder, StableDiffusionConfig.TextEncoderFolder, ClipTextConfig.Load),
            CheckpointLoader.SchedulerIn(configFolders));

        var files = new List<SafeTensorsReader>();
        try
        {
            WeightSet Component(string component, string weightsName, Func<SafeTensorInfo, (string Name, int[] Shape)> name)
            {
                var reader = CheckpointLoader.OpenFile(WeightsFile(Path.Combine(folder, component), weightsName));
                files.Add(reader);
                return new WeightSet(component, device, source.Weights, reader.Tensors.Select(info =>
                {
                    var (mapped, shape) = name(info);
                    return new WeightEntry(mapped, reader, info, shape);
                }));
            }

            var unet = Component(StableDiffusionConfig.UNetFolder, DiffusersWeights, info => (info.Name, [.. info.Shape]));
            var vae = Component(StableDiffusionConfig.VaeFolder, DiffusersWeights, info =>
            {
                var name = VaeNames.Diffusers.Map(info.Name) ?? info.Name;
                return (name, VaeNames.Shape(name, info.Shape));
            });
            var text = Component(StableDiffusionConfig.TextEncoderFolder, TransformersWeights, info => (info.Name, [.. info.Shape]));
            return new Checkpoint(source, CheckpointLayout.DiffusersFolder, config, files, unet, vae, text,
                CheckpointLoader.TokenizerIn(source.TokenizerFolder, configFolders), [], []);
        }
        catch
        {
            foreach (var file in files) file.Dispose();
            throw;
        }
    }

    private static T Config<T>(string?[] configFolders, string folder, string component, Func<string, T> load) where T : class =>
        CheckpointLoader.ConfigIn(configFolders, component, load)
        ?? throw new CheckpointException(Path.Combine(folder, component, StableDiffusionConfig.ConfigFileName), "the component's config.json is missing");

    /// <summary>The weights files of <c>unet/</c>, <c>vae/</c> and <c>text_encoder/</c>, in that order.</summary>
    public static string[] WeightFiles(string folder) =>
    [
        WeightsFile(Path.Combine(folder, StableDiffusionConfig.UNetFolder), DiffusersWeights),
        WeightsFile(Path.Combine(folder, StableDiffusionConfig.VaeFolder), DiffusersWeights),
        WeightsFile(Path.Combine(folder, StableDiffusionConfig.TextEncoderFolder), TransformersWeights),
    ];

    /// <summary>The weights file of a component folder (see the class summary for the order of preference).</summary>
    private static string WeightsFile(string componentFolder, string weightsName)
    {
        if (!Directory.Exists(componentFolder)) throw new CheckpointException(componentFolder, "the component folder is missing");
        foreach (var name in new[] { $"{weightsName}.safetensors", $"{weightsName}.fp16.safetensors" })
            if (File.Exists(Path.Combine(componentFolder, name))) return Path.Combine(componentFolder, name);
        var safetensors = Directory.GetFiles(componentFolder, "*.safetensors");
        if (safetensors.Length == 1) return safetensors[0];
        if (safetensors.Length > 1)
            throw new CheckpointException(componentFolder,
                $"several .safetensors files ({string.Join(", ", safetensors.Select(Path.GetFileName).Order())}) and none named {weightsName}.safetensors");
        if (Directory.GetFiles(componentFolder).FirstOrDefault(PickleGuard.HasPickleExtension) is { } pickle) throw PickleGuard.Refusal(pickle);
        throw new CheckpointException(componentFolder, $"no {weightsName}.safetensors weights");
    }
}
