namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The self-check of attention-forward variants that no test can run (tensor cores): on first use on a device, the
/// variant must match the portable kernel on fixed problems within the fp16 bound, else it switches itself off
/// there (<see cref="SelfCheckedVariant{TArgs}"/>).
/// </summary>
internal static class AttentionSelfCheck
{
    /// <summary>The fp16 paths' bound (issue 7): relative error against fp32 results.</summary>
    public const double Bound = 5e-3;

    /// <summary>
    /// The weight of the logsumexp in the probe's output: about 5 per row against outputs of about 0.2 per channel,
    /// so at 1/4 neither part's norm hides an error in the other.
    /// </summary>
    public const float LogSumExpWeight = 0.25f;

    /// <summary>
    /// The probe's problems (N = 2, H = 2): each CUDA head dim, query and key counts that cross the 64-query and
    /// 64- or 32-key blocks, the 77-key cross-attention of SD's text conditioning, and a causal self-attention.
    /// </summary>
    public static readonly (int HeadDim, int Queries, int Keys, bool Causal)[] Problems =
    [
        (40, 100, 100, false),
        (40, 70, 70, true),
        (80, 70, 77, false),
        (160, 33, 77, false),
    ];

    /// <summary>Wraps <paramref name="candidate"/> so that it checks itself against <paramref name="reference"/> with <see cref="Probe"/>.</summary>
    public static SelfCheckedVariant<AttentionForwardArgs> Guard(
        KernelVariant<AttentionForwardArgs> candidate, KernelVariant<AttentionForwardArgs> reference, TextWriter? log = null) =>
        new(candidate, reference, Probe, Bound, log);

    /// <summary>
    /// Runs <paramref name="launch"/> on each of <see cref="Problems"/> with fixed inputs uniform in [−2, 2] (logits
    /// of standard deviation about 1.3) and returns the outputs and the weighted logsumexps, one problem after another.
    /// </summary>
    public static float[] Probe(Device device, Action<Device, AttentionForwardArgs> launch)
    {
        const int batch = 2, heads = 2;
        var result = new List<float>();
        foreach (var (dim, queries, keys, causal) in Problems)
        {
            var random = new Random(dim + queries + keys);
            int channels = heads * dim;
            using var q = Tensor.FromHost(device, Uniform(random, batch * queries * channels), batch, queries, channels);
            using var k = Tensor.FromHost(device, Uniform(random, batch * keys * channels), batch, keys, channels);
            using var v = Tensor.FromHost(device, Uniform(random, batch * keys * channels), batch, keys, channels);
            using var output = Tensor.Empty(device, DType.F32, batch, queries, channels);
            using var logSumExp = Tensor.Empty(device, DType.F32, batch, heads, queries);
            var dims = new AttentionDims(batch, heads, queries, keys, dim, dim, 1f / MathF.Sqrt(dim), causal ? 1 : 0);
            launch(device, new AttentionForwardArgs(q, k, v, output, logSumExp, dims));
            result.AddRange(output.ToFloatArray());
            result.AddRange(logSumExp.ToFloatArray().Select(x => LogSumExpWeight * x));
        }
        return result.ToArray();
    }

    private static float[] Uniform(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)(4 * random.NextDouble() - 2)).ToArray();
}
