using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.SafeTensors;

namespace IlgpuDiffusion.Model.Loading;

/// <summary>
/// Opens a single-file CompVis/LDM checkpoint: splits its tensors by component (<see cref="SingleFileLayout"/>),
/// takes each config from the <c>--config</c> folder or infers it from the tensors (<see cref="LdmArchitecture"/>),
/// and renames every tensor to its diffusers name with mappings built from those configs (<see cref="LdmUNetNames"/>,
/// <see cref="VaeNames"/>, <see cref="LdmTextEncoderNames"/>). A tensor under a component prefix that no mapping
/// covers keeps its LDM name, so it is reported as unexpected.
/// </summary>
internal static class SingleFileLoader
{
    public static Checkpoint Open(ModelSource source, string path, Device device)
    {
        var reader = CheckpointLoader.OpenFile(path);
        try
        {
            var layout = SingleFileLayout.Of(reader);
            string?[] configFolders = [source.ConfigFolder];
            var textEntries = Entries(reader, layout.TextEncoder, LdmTextEncoderNames.Names, shape: null);
            var config = new StableDiffusionConfig(
                CheckpointLoader.ConfigIn(configFolders, StableDiffusionConfig.UNetFolder, UNetConfig.Load)
                    ?? LdmArchitecture.InferUNet(layout.UNet, path),
                CheckpointLoader.ConfigIn(configFolders, StableDiffusionConfig.VaeFolder, VaeConfig.Load)
                    ?? LdmArchitecture.InferVae(layout.Vae, path),
                CheckpointLoader.ConfigIn(configFolders, StableDiffusionConfig.TextEncoderFolder, ClipTextConfig.Load)
                    ?? LdmArchitecture.InferTextEncoder(textEntries.DistinctBy(e => e.Name).ToDictionary(e => e.Name, e => e.Source), path),
                CheckpointLoader.SchedulerIn(configFolders));
            var unet = Entries(reader, layout.UNet, LdmUNetNames.Create(config.UNet), shape: null);
            var vae = Entries(reader, layout.Vae, VaeNames.FromLdm(config.Vae), VaeNames.Shape);
            return new Checkpoint(source, CheckpointLayout.SingleFile, config, [reader],
                new WeightSet(StableDiffusionConfig.UNetFolder, device, source.Weights, unet),
                new WeightSet(StableDiffusionConfig.VaeFolder, device, source.Weights, vae),
                new WeightSet(StableDiffusionConfig.TextEncoderFolder, device, source.Weights, textEntries),
                CheckpointLoader.TokenizerIn(source.TokenizerFolder, configFolders), layout.Ignored, layout.Unrecognized);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>The component's tensors under their diffusers names, with their shape under that name (default: the file's).</summary>
    private static List<WeightEntry> Entries(SafeTensorsReader reader, IReadOnlyDictionary<string, SafeTensorInfo> tensors, ModuleRenamer names,
        Func<string, IReadOnlyList<int>, int[]>? shape) =>
        [.. tensors.Select(pair =>
        {
            var name = names.Map(pair.Key) ?? pair.Key;
            return new WeightEntry(name, reader, pair.Value, shape?.Invoke(name, pair.Value.Shape) ?? [.. pair.Value.Shape]);
        })];
}
