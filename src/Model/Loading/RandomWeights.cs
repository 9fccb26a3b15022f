using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Model.Loading;

/// <summary>
/// The weights of <see cref="WeightSet.Random"/>, scaled as a freshly initialised network so activations stay O(1):
/// a rank-1 <c>*.weight</c> (a norm's scale) is 1, any other rank-1 tensor (a bias or a norm's shift) 0, and a
/// tensor of rank ≥ 2 (linear, conv, embedding table) is N(0, 1)/√fan_in with fan_in the product of all but its
/// first dimension. Element i of tensor <c>name</c> is a pure function of (seed, name, i) (a SplitMix64 hash turned
/// into a normal by Box–Muller), so the values do not depend on thread count or order and are generated in parallel.
/// </summary>
internal sealed class RandomWeights(ulong seed)
{
    private const int Chunk = 1 << 16;

    /// <summary>The tensor <paramref name="name"/> of <paramref name="shape"/> on <paramref name="device"/> as <paramref name="dtype"/> (F32 or F16).</summary>
    public Tensor Create(Device device, string name, int[] shape, DType dtype)
    {
        var values = Values(name, shape);
        return dtype switch
        {
            DType.F32 => Tensor.FromHost(device, values, shape),
            DType.F16 => Tensor.FromHost(device, ToHalf(values), shape),
            _ => throw new ArgumentException($"random weight '{name}': weights are F32 or F16, not {dtype}.", nameof(dtype)),
        };
    }

    /// <summary>The values of tensor <paramref name="name"/> (see the class summary), row-major.</summary>
    public float[] Values(string name, int[] shape)
    {
        long count = 1;
        foreach (int d in shape) count *= d;
        var values = new float[checked((int)count)];
        if (shape.Length == 1)
        {
            if (name.EndsWith(".weight", StringComparison.Ordinal)) Array.Fill(values, 1f);
            return values;
        }
        float scale = (float)(1 / Math.Sqrt(count / shape[0]));
        ulong key = seed ^ NameHash(name);
        ForChunks(values.Length, (start, end) =>
        {
            for (int i = start; i < end; i++) values[i] = scale * Normal(key, (ulong)i);
        });
        return values;
    }

    /// <summary>A standard normal from one 64-bit hash of (key, index): Box–Muller on its two 32-bit halves.</summary>
    private static float Normal(ulong key, ulong index)
    {
        ulong bits = SplitMix64(key + index * 0x9E3779B97F4A7C15UL);
        double u1 = ((bits >> 40) + 1) / 16777217.0, u2 = (uint)bits / 4294967296.0;
        return (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    private static ulong SplitMix64(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>FNV-1a over the name's characters: stable across runs, unlike <see cref="string.GetHashCode()"/>.</summary>
    private static ulong NameHash(string name)
    {
        ulong hash = 0xCBF29CE484222325UL;
        foreach (char c in name) hash = (hash ^ c) * 0x100000001B3UL;
        return hash;
    }

    private static System.Half[] ToHalf(float[] values)
    {
        var halves = new System.Half[values.Length];
        ForChunks(values.Length, (start, end) =>
        {
            for (int i = start; i < end; i++) halves[i] = (System.Half)values[i];
        });
        return halves;
    }

    /// <summary>Runs <paramref name="body"/> over [0, <paramref name="count"/>) in chunks, in parallel only when there is more than one chunk (most tensors are small, and waking the thread pool costs more than they do).</summary>
    private static void ForChunks(int count, Action<int, int> body)
    {
        int chunks = (count + Chunk - 1) / Chunk;
        if (chunks <= 1)
        {
            body(0, count);
            return;
        }
        Parallel.For(0, chunks, chunk => body(chunk * Chunk, Math.Min(count, (chunk + 1) * Chunk)));
    }
}
