using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Reductions. The sum is deterministic: each pass sums fixed-size chunks sequentially, one thread per chunk, and
/// passes repeat until one value is left, so the result never depends on thread timing or float atomics.
/// </summary>
public static class Reduce
{
    /// <summary>Elements each thread of one pass adds up.</summary>
    internal const int ChunkSize = 256;

    /// <summary>The sum of all elements of an F32 tensor, as a one-element F32 tensor on the same device.</summary>
    public static Tensor Sum(Tensor x)
    {
        Require.DType(nameof(Sum), nameof(x), x, DType.F32);
        var device = x.Device;
        Tensor? current = null;
        var input = x.F32View;
        int length = x.Count;
        do
        {
            int chunks = (length + ChunkSize - 1) / ChunkSize;
            var partial = Tensor.Empty(device, DType.F32, chunks);
            device.Accelerator.LaunchAutoGrouped(SumChunksKernel, device.Stream, new Index1D(chunks), input, length, partial.F32View);
            current?.Dispose();
            current = partial;
            input = partial.F32View;
            length = chunks;
        }
        while (length > 1);
        return current;
    }

    [Kernel]
    internal static void SumChunksKernel(Index1D chunk, ArrayView<float> x, int length, ArrayView<float> partial)
    {
        int start = chunk * ChunkSize;
        int end = Math.Min(start + ChunkSize, length);
        float sum = 0f;
        for (int i = start; i < end; i++) sum += x[i];
        partial[chunk] = sum;
    }
}
