using IlgpuDiffusion.CLora.Training;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.CLora.Benchmarking;

/// <summary>
/// Training micro-batches without a dataset, for benchmarks: latents and noise are standard normal (Philox, the draw
/// index as offset), timesteps uniform in [0, T), every sample's prompt the same ids. Draw k is a pure function of
/// (seed, k).
/// </summary>
internal sealed class RandomBatchSource(Device device, int[] promptIds, int[] latentShape, int trainTimesteps, ulong seed) : IBatchSource
{
    private const ulong LatentTag = 1UL << 61, NoiseTag = 1UL << 62;

    public CLoraBatch Next(long draw)
    {
        int n = latentShape[0];
        var random = new StepRandom(seed, draw);
        var timesteps = new int[n];
        for (int s = 0; s < n; s++) timesteps[s] = random.Next(trainTimesteps);
        var ids = new int[n * promptIds.Length];
        for (int s = 0; s < n; s++) promptIds.CopyTo(ids, s * promptIds.Length);
        return new CLoraBatch(Normal(LatentTag | (ulong)draw), Normal(NoiseTag | (ulong)draw),
            Tensor.FromHost(device, timesteps, n), Tensor.FromHost(device, ids, n, promptIds.Length));
    }

    private Tensor Normal(ulong offset)
    {
        var tensor = Tensor.Empty(device, DType.F32, latentShape);
        Philox.Normal(tensor, seed, offset);
        return tensor;
    }
}
