namespace IlgpuDiffusion.Model.Configs;

/// <summary>
/// The three networks of an SD 1.x model, plus where its scheduler config is (null when the model brings none; the
/// pipeline then uses SD 1.5's scheduler settings).
/// </summary>
public sealed record StableDiffusionConfig(UNetConfig UNet, VaeConfig Vae, ClipTextConfig TextEncoder, string? SchedulerConfigPath)
{
    /// <summary>The subfolder of each component in a diffusers model folder.</summary>
    public const string UNetFolder = "unet", VaeFolder = "vae", TextEncoderFolder = "text_encoder", TokenizerFolder = "tokenizer",
        SchedulerFolder = "scheduler";

    /// <summary>The config file name diffusers and transformers use for a network.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>The scheduler's config file name inside <see cref="SchedulerFolder"/>.</summary>
    public const string SchedulerConfigFileName = "scheduler_config.json";

    /// <summary>Stable Diffusion 1.5 (and 1.1–1.4), with no scheduler file.</summary>
    public static StableDiffusionConfig StableDiffusion15 { get; } = new(UNetConfig.StableDiffusion15, VaeConfig.StableDiffusion15, ClipTextConfig.VitL14, null);

    /// <summary>Reads <c>unet/</c>, <c>vae/</c> and <c>text_encoder/config.json</c> of a diffusers model folder.</summary>
    public static StableDiffusionConfig FromFolder(string folder) => new(
        UNetConfig.Load(Path.Combine(folder, UNetFolder, ConfigFileName)),
        VaeConfig.Load(Path.Combine(folder, VaeFolder, ConfigFileName)),
        ClipTextConfig.Load(Path.Combine(folder, TextEncoderFolder, ConfigFileName)),
        SchedulerConfigIn(folder));

    /// <summary>The folder's <c>scheduler/scheduler_config.json</c>, or null when it has none.</summary>
    public static string? SchedulerConfigIn(string folder)
    {
        var path = Path.GetFullPath(Path.Combine(folder, SchedulerFolder, SchedulerConfigFileName));
        return File.Exists(path) ? path : null;
    }
}
