namespace IlgpuDiffusion.Evaluation.Metrics;

/// <summary>
/// Steele, Lea and Flood's SplitMix64 generator: a fixed, tiny algorithm, so a seed gives the same bootstrap samples on
/// every runtime and version (unlike <see cref="Random"/>, whose algorithm is unspecified).
/// </summary>
internal sealed class SplitMix64(ulong seed)
{
    private ulong state = seed;

    public ulong Next()
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>An index in [0, <paramref name="count"/>): a 53-bit uniform in [0, 1) times the count, truncated.</summary>
    public int NextIndex(int count) => (int)((Next() >> 11) * (1.0 / (1UL << 53)) * count);
}
