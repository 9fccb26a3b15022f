namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The self-check of convolution variants that no test can run (tensor cores): on first use on a device, the variant
/// must match the portable kernel on a fixed problem within the fp16 bound (<see cref="GemmSelfCheck.Bound"/>), else
/// it switches itself off there (<see cref="SelfCheckedVariant{TArgs}"/>).
/// </summary>
internal static class Conv2dSelfCheck
{
    /// <summary>Wraps <paramref name="candidate"/> so that it checks itself against <paramref name="reference"/> with <see cref="Probe"/>.</summary>
    public static SelfCheckedVariant<Conv2d.ForwardArgs> Guard(
        KernelVariant<Conv2d.ForwardArgs> candidate, KernelVariant<Conv2d.ForwardArgs> reference, TextWriter? log = null) =>
        new(candidate, reference, Probe, GemmSelfCheck.Bound, log);

    /// <summary>
    /// Runs <paramref name="launch"/> on a resnet-like 3 × 3 convolution with F16 weights, big enough to cross the
    /// edges of every registered block in M (2 × 12 × 12 = 288 positions), N (136 channels) and K (3 · 3 · 20 = 180,
    /// Cin not a multiple of 16), with padding 1, an F16 bias and a residual; returns the output [2, 12, 12, 136].
    /// </summary>
    public static float[] Probe(Device device, Action<Device, Conv2d.ForwardArgs> launch)
    {
        const int n = 2, size = 12, cin = 20, cout = 136;
        var random = new Random(11);
        var parameters = Conv2dParams.Symmetric(1, 1);
        using var x = Tensor.FromHost(device, Uniform(random, n * size * size * cin), n, size, size, cin);
        using var w = Tensor.FromHost(device, Uniform(random, cout * 9 * cin).Select(v => (System.Half)(v / 8)).ToArray(), cout, 3, 3, cin);
        using var bias = Tensor.FromHost(device, Uniform(random, cout).Select(v => (System.Half)v).ToArray(), cout);
        using var residual = Tensor.FromHost(device, Uniform(random, n * size * size * cout), n, size, size, cout);
        using var y = Tensor.Empty(device, DType.F32, n, size, size, cout);
        var geometry = new Conv2d.ConvGeometry(n, size, size, cin, size, size, cout, 3, 3, 1, 1, 1, 1);
        launch(device, new Conv2d.ForwardArgs(x, w, bias, residual, y, geometry));
        return y.ToFloatArray();
    }

    private static float[] Uniform(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)(2 * random.NextDouble() - 1)).ToArray();
}
