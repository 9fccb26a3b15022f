using IlgpuDiffusion.Model.SafeTensors;

namespace IlgpuDiffusion.Model.Loading;

/// <summary>
/// Sorts the tensors of a single-file CompVis/LDM checkpoint by component, with each component's prefix removed:
/// <c>model.diffusion_model.*</c> (UNet), <c>first_stage_model.*</c> (VAE), <c>cond_stage_model.transformer.*</c>
/// (CLIP text encoder). Known non-model extras are ignored, by group:
/// <list type="bullet">
/// <item><c>model_ema.*</c>: the EMA copy of the UNet kept by training (and its <c>decay</c>, <c>num_updates</c>);
/// the weights under <c>model.diffusion_model</c> are the ones used.</item>
/// <item>the DDPM noise schedule LDM stores as buffers: <c>betas</c>, <c>alphas_cumprod</c>, <c>alphas_cumprod_prev</c>,
/// <c>sqrt_alphas_cumprod</c>, <c>sqrt_one_minus_alphas_cumprod</c>, <c>log_one_minus_alphas_cumprod</c>,
/// <c>sqrt_recip_alphas_cumprod</c>, <c>sqrt_recipm1_alphas_cumprod</c>, <c>posterior_variance</c>,
/// <c>posterior_log_variance_clipped</c>, <c>posterior_mean_coef1</c>, <c>posterior_mean_coef2</c>: the scheduler
/// recomputes it from its config.</item>
/// <item>training-only state: <c>logvar</c>, <c>lvlb_weights</c>, <c>first_stage_model.loss.*</c> (the VAE's
/// LPIPS/discriminator loss).</item>
/// </list>
/// Anything else outside the three prefixes is unrecognized and reported.
/// </summary>
internal sealed class SingleFileLayout
{
    public const string UNetPrefix = "model.diffusion_model.";
    public const string VaePrefix = "first_stage_model.";
    public const string TextEncoderPrefix = "cond_stage_model.transformer.";

    private static readonly string[] IgnoredPrefixes = ["model_ema.", "first_stage_model.loss."];

    private static readonly HashSet<string> IgnoredNames =
    [
        "betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
        "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod", "posterior_variance",
        "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2", "logvar", "lvlb_weights",
    ];

    private SingleFileLayout(SafeTensorsReader reader)
    {
        foreach (var info in reader.Tensors)
        {
            if (IgnoredNames.Contains(info.Name) || IgnoredPrefixes.Any(p => info.Name.StartsWith(p, StringComparison.Ordinal)))
                Ignored.Add(info.Name);
            else if (Strip(info, UNetPrefix) is { } unet) UNet.Add(unet.Name, unet.Info);
            else if (Strip(info, VaePrefix) is { } vae) Vae.Add(vae.Name, vae.Info);
            else if (Strip(info, TextEncoderPrefix) is { } text) TextEncoder.Add(text.Name, text.Info);
            else Unrecognized.Add(info.Name);
        }
    }

    /// <summary>UNet tensors by LDM name without <see cref="UNetPrefix"/>.</summary>
    public Dictionary<string, SafeTensorInfo> UNet { get; } = new(StringComparer.Ordinal);

    /// <summary>VAE tensors by LDM name without <see cref="VaePrefix"/>.</summary>
    public Dictionary<string, SafeTensorInfo> Vae { get; } = new(StringComparer.Ordinal);

    /// <summary>Text encoder tensors by name without <see cref="TextEncoderPrefix"/>.</summary>
    public Dictionary<string, SafeTensorInfo> TextEncoder { get; } = new(StringComparer.Ordinal);

    /// <summary>Known non-model tensors that were skipped.</summary>
    public List<string> Ignored { get; } = [];

    /// <summary>Tensors outside every component and every known extra.</summary>
    public List<string> Unrecognized { get; } = [];

    public static SingleFileLayout Of(SafeTensorsReader reader) => new(reader);

    private static (string Name, SafeTensorInfo Info)? Strip(SafeTensorInfo info, string prefix) =>
        info.Name.StartsWith(prefix, StringComparison.Ordinal) ? (info.Name[prefix.Length..], info) : null;
}
