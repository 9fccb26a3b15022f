namespace IlgpuDiffusion.Model.Pipelines;

/// <summary>
/// What <see cref="StableDiffusionPipeline.Generate"/> made: the images in order (batch after batch), the final
/// latents <c>[N, 4, h, w]</c> before the VAE, the VAE's raw output <c>[N, 3, H, W]</c> (about [−1, 1], unclamped:
/// diffusers' <c>vae.decode(latents / scaling_factor)</c>), where the time went, and the peak device memory
/// (<see cref="Kernels.DeviceMemory.PeakReservedBytes"/> during the run, the weights included).
/// </summary>
public sealed record TextToImageResult(
    IReadOnlyList<GeneratedImage> Images, HostTensor Latents, HostTensor Decoded, GenerationTimings Timings, long PeakDeviceBytes)
{
    /// <summary>The peak bytes held by live tensors during the run (<see cref="Kernels.DeviceMemory.PeakLiveBytes"/>), the weights included.</summary>
    public long PeakLiveDeviceBytes { get; init; }
}
