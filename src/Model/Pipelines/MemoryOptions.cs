using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Vae;

namespace IlgpuDiffusion.Model.Pipelines;

/// <summary>
/// How <see cref="StableDiffusionPipeline"/> trades time for device memory. The images are the same either way, except
/// that VAE tiling blends overlapping tiles (a small difference near the seams, as in diffusers).
/// </summary>
public sealed record MemoryOptions
{
    /// <summary>Everything resident, no tiling: the fastest.</summary>
    public static MemoryOptions Default { get; } = new();

    /// <summary>
    /// After encoding the prompts, free the text encoder's device weights and return cached blocks to the device
    /// (<see cref="Kernels.DeviceMemory.Trim"/>), so the denoising loop runs without them; the next
    /// <see cref="StableDiffusionPipeline.Generate"/> loads them again from the checkpoint.
    /// </summary>
    public bool ReleaseTextEncoder { get; init; }

    /// <summary>Decode (and, for image-to-image, encode) images larger than one tile in overlapping tiles; null: whole.</summary>
    public VaeTiling? VaeTiling { get; init; }

    /// <summary>The low-memory mode: release the text encoder and tile the VAE with diffusers' default tiles for <paramref name="vae"/>.</summary>
    public static MemoryOptions Low(VaeConfig vae) => new() { ReleaseTextEncoder = true, VaeTiling = Vae.VaeTiling.For(vae) };
}
