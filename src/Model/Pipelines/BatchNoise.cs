using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Schedulers;

namespace IlgpuDiffusion.Model.Pipelines;

/// <summary>
/// The standard-normal noise of one batch, image by image: image i draws from <see cref="Philox.Normal"/> with its own
/// seed and a stream number (the Philox offset) per use, so an image depends only on its seed, not on the batch it was
/// made in or the device. Streams: <see cref="InitialNoise"/> (the starting latents, or the noise image-to-image adds),
/// <see cref="Posterior"/> (the VAE posterior sample of an init image), then one per stochastic scheduler step.
/// </summary>
internal sealed class BatchNoise(Device device, IReadOnlyList<long> seeds) : INoiseSource
{
    public const ulong InitialNoise = 0, Posterior = 1, FirstStep = 2;

    private ulong nextStep = FirstStep;

    /// <summary>The per-image seeds.</summary>
    public IReadOnlyList<long> Seeds => seeds;

    /// <summary><paramref name="perImage"/> normals for every image of the batch from stream <paramref name="stream"/>, concatenated.</summary>
    public float[] Draw(int perImage, ulong stream)
    {
        var values = new float[perImage * seeds.Count];
        for (int i = 0; i < seeds.Count; i++)
        {
            using var noise = Tensor.Empty(device, DType.F32, perImage);
            Philox.Normal(noise, (ulong)seeds[i], stream);
            noise.ToFloatArray().CopyTo(values, i * perImage);
        }
        return values;
    }

    /// <summary>A scheduler step's noise: each call takes the next stream.</summary>
    public void NextStandardNormal(Span<float> destination)
    {
        if (destination.Length % seeds.Count != 0)
            throw new ArgumentException($"{destination.Length} noise values do not split over {seeds.Count} images.", nameof(destination));
        Draw(destination.Length / seeds.Count, nextStep++).CopyTo(destination);
    }
}
