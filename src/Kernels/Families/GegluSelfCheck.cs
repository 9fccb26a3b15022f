namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The self-check of fused projection + GEGLU variants that no test can run (tensor cores): on first use on a device,
/// the variant must match the portable composition on a fixed problem within the fp16 bound
/// (<see cref="GemmSelfCheck.Bound"/>), else it switches itself off there (<see cref="SelfCheckedVariant{TArgs}"/>).
/// </summary>
internal static class GegluSelfCheck
{
    /// <summary>Wraps <paramref name="candidate"/> so that it checks itself against <paramref name="reference"/> with <see cref="Probe"/>.</summary>
    public static SelfCheckedVariant<LinearGeglu.Args> Guard(
        KernelVariant<LinearGeglu.Args> candidate, KernelVariant<LinearGeglu.Args> reference, TextWriter? log = null) =>
        new(candidate, reference, Probe, GemmSelfCheck.Bound, log);

    /// <summary>
    /// Runs <paramref name="launch"/> on a feed-forward-like problem with F16 weights, big enough to cross the edges of
    /// every registered block in rows (200), hidden/gate pairs (Inner 136) and K (72): x [200, 72], weight [272, 72],
    /// an F16 bias; returns the output [200, 136].
    /// </summary>
    public static float[] Probe(Device device, Action<Device, LinearGeglu.Args> launch)
    {
        const int rows = 200, inner = 136, k = 72;
        var random = new Random(13);
        using var x = Tensor.FromHost(device, Uniform(random, rows * k), rows, k);
        using var w = Tensor.FromHost(device, Uniform(random, 2 * inner * k).Select(v => (System.Half)(v / 4)).ToArray(), 2 * inner, k);
        using var bias = Tensor.FromHost(device, Uniform(random, 2 * inner).Select(v => (System.Half)v).ToArray(), 2 * inner);
        var args = LinearGeglu.Arguments(x, w, bias);
        using (args.Output)
        {
            launch(device, args);
            return args.Output.ToFloatArray();
        }
    }

    private static float[] Uniform(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)(2 * random.NextDouble() - 1)).ToArray();
}
