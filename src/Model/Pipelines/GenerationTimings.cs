namespace IlgpuDiffusion.Model.Pipelines;

/// <summary>
/// Where a run's time went: text encoding, VAE-encoding an init image (image-to-image), denoising (the scheduler
/// loop with its UNet calls) and VAE decoding, each summed over all batches.
/// </summary>
public sealed record GenerationTimings(TimeSpan TextEncoding, TimeSpan ImageEncoding, TimeSpan Denoising, TimeSpan Decoding)
{
    public TimeSpan Total => TextEncoding + ImageEncoding + Denoising + Decoding;
}
