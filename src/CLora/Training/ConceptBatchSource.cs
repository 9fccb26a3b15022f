using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.CLora.Training;

/// <summary>
/// Seeded micro-batches over a <see cref="ConceptDataset"/>: per sample an image, a flip coin, a prompt and a timestep
/// uniform in [0, T) (<see cref="StepRandom"/>), and ε from Philox at an offset given by the draw index (plus the
/// noise offset's per-channel term when set). Draw k is a pure function of (seed, k).
/// </summary>
public sealed class ConceptBatchSource : IBatchSource
{
    /// <summary>Tags keeping the Philox offsets of the noise apart from other fills of the same seed.</summary>
    private const ulong NoiseTag = 1UL << 62, OffsetTag = 2UL << 62;

    private readonly ConceptDataset data;
    private readonly Device device;
    private readonly TrainerOptions options;
    private readonly int trainTimesteps;

    /// <summary>Batches of <paramref name="options"/>' size and seed, with timesteps in [0, <paramref name="trainTimesteps"/>).</summary>
    public ConceptBatchSource(ConceptDataset data, Device device, TrainerOptions options, int trainTimesteps)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(trainTimesteps, 1);
        (this.data, this.device, this.options, this.trainTimesteps) = (data, device, options, trainTimesteps);
    }

    public CLoraBatch Next(long draw)
    {
        int n = options.BatchSize, size = data.LatentSize, channels = data.LatentChannels, plane = size * size * channels;
        var random = new StepRandom(options.Seed, draw);
        var latents = new float[n * plane];
        var ids = new List<int>(n * 77);
        var timesteps = new int[n];
        for (int s = 0; s < n; s++)
        {
            var example = data.Examples[random.Next(data.Examples.Count)];
            example.Latents[random.Next(example.Latents.Count)].CopyTo(latents, s * plane);
            ids.AddRange(example.Prompts[random.Next(example.Prompts.Count)]);
            timesteps[s] = random.Next(trainTimesteps);
        }
        var shape = new[] { n, size, size, channels };
        return new CLoraBatch(
            Tensor.FromHost(device, latents, shape), Noise(draw, shape),
            Tensor.FromHost(device, timesteps, n), Tensor.FromHost(device, [.. ids], n, ids.Count / n));
    }

    private Tensor Noise(long draw, int[] shape)
    {
        var noise = Tensor.Empty(device, DType.F32, shape);
        Philox.Normal(noise, options.Seed, NoiseTag | (ulong)draw);
        if (options.NoiseOffset is not { } offset) return noise;
        float[] values, shifts;
        using (noise) values = noise.ToFloatArray();
        using (var perChannel = Tensor.Empty(device, DType.F32, shape[0], shape[^1]))
        {
            Philox.Normal(perChannel, options.Seed, OffsetTag | (ulong)draw);
            shifts = perChannel.ToFloatArray();
        }
        int channels = shape[^1], plane = values.Length / shape[0];
        for (int i = 0; i < values.Length; i++) values[i] += offset * shifts[i / plane * channels + i % channels];
        return Tensor.FromHost(device, values, shape);
    }
}
