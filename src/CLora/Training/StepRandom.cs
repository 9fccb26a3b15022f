namespace IlgpuDiffusion.CLora.Training;

/// <summary>
/// The host-side random choices of one draw (which image, flip, prompt and timestep), a SplitMix64 stream keyed by
/// (seed, draw index). Being counter-based, a resumed run needs no generator state: draw k gives the same choices
/// whether or not the run was interrupted before it.
/// </summary>
internal sealed class StepRandom(ulong seed, long draw)
{
    private ulong state = Mix(seed ^ Mix((ulong)draw + 0x9E3779B97F4A7C15UL));

    /// <summary>A value uniform in [0, <paramref name="count"/>).</summary>
    public int Next(int count) => (int)(NextWord() % (ulong)count);

    private ulong NextWord() => Mix(state += 0x9E3779B97F4A7C15UL);

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
