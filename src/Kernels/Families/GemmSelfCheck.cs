namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The self-check of GEMM variants that no test can run (tensor cores): on first use on a device, the variant must
/// match the portable kernel on a fixed problem within the fp16 bound, else it switches itself off there
/// (<see cref="SelfCheckedVariant{TArgs}"/>).
/// </summary>
internal static class GemmSelfCheck
{
    /// <summary>The fp16 paths' bound (issue 7): relative error against fp32 results.</summary>
    public const double Bound = 5e-3;

    /// <summary>Wraps <paramref name="candidate"/> so that it checks itself against <paramref name="reference"/> with <see cref="Probe"/>.</summary>
    public static SelfCheckedVariant<GemmArgs> Guard(
        KernelVariant<GemmArgs> candidate, KernelVariant<GemmArgs> reference, TextWriter? log = null) =>
        new(candidate, reference, Probe, Bound, log);

    /// <summary>
    /// Runs <paramref name="launch"/> on a Linear-like problem with F16 weights, big enough to cross the edges of
    /// every registered block in M, N and K: a batch of 2 × [200, 72] activations times weights [136, 72] used
    /// transposed and shared by the batch, an F16 bias and beta 0.5; returns C [2, 200, 136].
    /// </summary>
    public static float[] Probe(Device device, Action<Device, GemmArgs> launch)
    {
        const int batch = 2, m = 200, n = 136, k = 72;
        var random = new Random(7);
        using var a = Tensor.FromHost(device, Uniform(random, batch * m * k), batch, m, k);
        using var w = Tensor.FromHost(device, Uniform(random, n * k).Select(v => (System.Half)v).ToArray(), n, k);
        using var bias = Tensor.FromHost(device, Uniform(random, n).Select(v => (System.Half)v).ToArray(), n);
        using var c = Tensor.FromHost(device, Uniform(random, batch * m * n), batch, m, n);
        launch(device, new GemmArgs(a, w, c, bias, batch, m, n, k,
            TransA: false, TransB: true, ShareA: false, ShareB: true, Alpha: 1f, Beta: 0.5f));
        return c.ToFloatArray();
    }

    private static float[] Uniform(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)(2 * random.NextDouble() - 1)).ToArray();
}
