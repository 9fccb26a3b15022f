namespace IlgpuDiffusion.Model.Pipelines;

/// <summary>
/// Reported after each denoising step: <see cref="Step"/> of <see cref="Total"/> (1-based) in batch
/// <see cref="Batch"/> of <see cref="Batches"/> (1-based), the time since this batch's denoising began, and the
/// batch's latents after the step (NCHW, as diffusers' step callback sees them; do not modify).
/// </summary>
public sealed record DenoisingProgress(int Step, int Total, int Batch, int Batches, TimeSpan Elapsed, HostTensor Latents)
{
    /// <summary>Steps per second so far in this batch.</summary>
    public double StepsPerSecond => Elapsed > TimeSpan.Zero ? Step / Elapsed.TotalSeconds : 0;
}
