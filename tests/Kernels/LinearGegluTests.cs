using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;
using Device = IlgpuDiffusion.Kernels.Device;

namespace IlgpuDiffusion.Tests.Kernels;

/// <summary>
/// The feed-forward projection with GEGLU fused into its epilogue (<see cref="GegluGemm"/>), run on the wide CPU
/// accelerator with the tiny test tile and the CUDA tile (shapes ≤ 32), against the portable Linear + Geglu and a
/// float64 reference; its tensor-core kernel through the m16n8k16 CPU fallback; the self-check's probe; the public op
/// <see cref="LinearGeglu.Forward"/>, its checks, and its dispatch on the CPU.
/// </summary>
public class LinearGegluTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.WideCpu;

    private static readonly Dictionary<string, Action<Device, LinearGeglu.Args>> fused = new()
    {
        ["tiled-8"] = GegluGemm.Launch<TiledGemm8>,
        ["tiled-128"] = GegluGemm.Launch<TiledGemm128>,
    };

    /// <summary>
    /// (rows, C, inner): a single element; inner 6 and 13 are not multiples of the tiny tile's half-width 4 and rows
    /// cross its 8-row blocks; inner 20 and 32 rows for the CUDA tile (half-width 64).
    /// </summary>
    public static TheoryData<string, int, int, int, bool, bool> Cases()
    {
        var data = new TheoryData<string, int, int, int, bool, bool>();
        foreach (var (rows, c, inner) in new[] { (1, 1, 1), (5, 7, 6), (17, 9, 13) })
            foreach (bool f16 in new[] { false, true })
                foreach (bool bias in new[] { true, false })
                    data.Add("tiled-8", rows, c, inner, f16, bias);
        data.Add("tiled-128", 32, 16, 20, false, true);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fused_kernel_matches_linear_then_geglu_and_float64(string kernel, int rows, int c, int inner, bool f16, bool withBias)
    {
        var x = Reference.RandomNormal(rows * c, rows + c);
        var w = Stored(Reference.RandomNormal(2 * inner * c, inner), f16);
        var b = withBias ? Stored(Reference.RandomNormal(2 * inner, inner + 1), f16) : null;
        using var tx = Tensor.FromHost(device, x, rows, c);
        using var tw = Upload(w, f16, 2 * inner, c);
        using var tb = b is null ? null : Upload(b, f16, 2 * inner);

        var args = LinearGeglu.Arguments(tx, tw, tb);
        using (args.Output)
        {
            Fill(args.Output, float.NaN);
            fused[kernel](device, args);
            var tuned = args.Output.ToFloatArray();
            LinearGeglu.Portable.Launch(device, args);
            var portable = args.Output.ToFloatArray();
            double error = Reference.RelativeError(tuned, portable);
            double exact = Reference.RelativeError(tuned, Host(x, w, b, rows, c, inner));
            output.WriteLine($"{kernel} [{rows}, {c}] → {inner} f16={f16} bias={withBias}: vs portable {error:E2}, vs float64 {exact:E2}");
            Assert.True(error <= 1e-6, $"relative error {error}"); // fp32 both ways; only the summation order differs
            Assert.True(exact <= 1e-6, $"relative error {exact}"); // fp32 sums of ≤ 16 products, then GELU in fp32
        }
    }

    [Theory]
    [InlineData(5, 7, 6)]
    [InlineData(33, 20, 11)]
    public void Tensor_core_fused_kernel_is_exact_for_f16_rounded_operands(int rows, int c, int inner)
    {
        // TensorCoreGemm32: one warp of 2 × 2 m16n8 tiles, so hidden/gate pairs are 8 columns apart in each warp tile.
        var x = Reference.RandomNormal(rows * c, rows + c);
        var w = Stored(Reference.RandomNormal(2 * inner * c, inner), f16: true);
        var b = Stored(Reference.RandomNormal(2 * inner, inner + 1), f16: true);
        using var tx = Tensor.FromHost(device, x, rows, c);
        using var tw = Upload(w, true, 2 * inner, c);
        using var tb = Upload(b, true, 2 * inner);
        var args = LinearGeglu.Arguments(tx, tw, tb);
        using (args.Output)
        {
            Fill(args.Output, float.NaN);
            GegluGemm.LaunchTensorCores<TensorCoreGemm32>(device, args);
            var tuned = args.Output.ToFloatArray();
            LinearGeglu.Portable.Launch(device, args);
            double portable = Reference.RelativeError(tuned, args.Output.ToFloatArray());
            double exact = Reference.RelativeError(tuned, Host(Stored(x, f16: true), w, b, rows, c, inner));
            output.WriteLine($"tensor-core-32 [{rows}, {c}] → {inner}: vs float64 of the F16-rounded operands {exact:E2}, vs portable {portable:E2}");
            Assert.True(exact <= 1e-5, $"relative error {exact}"); // fp16 products are exact in fp32; fp32 accumulation and GELU only
            Assert.True(portable <= 5e-3, $"relative error {portable}"); // fp16 path bound
        }
    }

    [Fact]
    public void Tensor_core_shapes_one_tile_wide_cannot_pair_columns()
    {
        using var x = Tensor.FromHost(device, Reference.RandomNormal(6, 1), 2, 3);
        using var w = Tensor.FromHost(device, Reference.RandomNormal(12, 2).Select(v => (System.Half)v).ToArray(), 4, 3);
        var args = LinearGeglu.Arguments(x, w, null);
        using (args.Output)
        {
            var error = Assert.Throws<InvalidOperationException>(() => GegluGemm.LaunchTensorCores<TensorCoreGemm16>(device, args));
            Assert.Contains("even number of tiles", error.Message);
        }
    }

    [Fact]
    public void Self_check_probe_accepts_the_portable_composition_and_switches_off_a_wrong_kernel()
    {
        Assert.True(GegluSelfCheck.Guard(LinearGeglu.Portable with { Name = "geglu-like-portable" }, LinearGeglu.Portable, TextWriter.Null)
            .Passes(Devices.Portable));

        // A kernel that drops the bias: the probe has one, so the check must see the difference.
        var biasless = new KernelVariant<LinearGeglu.Args>("geglu-without-bias", KernelTier.CudaTuned, (_, _) => true,
            (d, args) => LinearGeglu.Portable.Launch(d, args with { Bias = null }));
        var log = new StringWriter();
        Assert.False(GegluSelfCheck.Guard(biasless, LinearGeglu.Portable, log).Passes(Devices.Portable));
        Assert.Contains("geglu-without-bias", log.ToString());
    }

    [Fact]
    public void Forward_keeps_leading_dimensions_and_matches_float64()
    {
        const int batch = 2, tokens = 3, c = 4, inner = 5;
        var x = Reference.RandomNormal(batch * tokens * c, 41);
        var w = Reference.RandomNormal(2 * inner * c, 42);
        var b = Reference.RandomNormal(2 * inner, 43);
        using var tx = Tensor.FromHost(Devices.Portable, x, batch, tokens, c);
        using var tw = Tensor.FromHost(Devices.Portable, w, 2 * inner, c);
        using var tb = Tensor.FromHost(Devices.Portable, b, 2 * inner);
        using var y = LinearGeglu.Forward(tx, tw, tb);
        Assert.Equal(new Shape(batch, tokens, inner), y.Shape);
        double error = Reference.RelativeError(y.ToFloatArray(), Host(x, w, b, batch * tokens, c, inner));
        output.WriteLine($"LinearGeglu.Forward vs float64: {error:E2}");
        Assert.True(error <= 1e-6, $"relative error {error}"); // fp32 sums of 4 products, then GELU in fp32
    }

    [Fact]
    public void Bad_operands_are_refused_with_their_names()
    {
        var d = Devices.Portable;
        using var x = Tensor.FromHost(d, Reference.RandomNormal(6, 1), 2, 3);
        using var odd = Tensor.FromHost(d, Reference.RandomNormal(9, 2), 3, 3);
        Assert.Contains("even number of outputs", Assert.Throws<ArgumentException>(() => LinearGeglu.Forward(x, odd)).Message);
        using var narrow = Tensor.FromHost(d, Reference.RandomNormal(8, 3), 4, 2);
        Assert.Contains("3 features", Assert.Throws<ArgumentException>(() => LinearGeglu.Forward(x, narrow)).Message);
        using var w = Tensor.FromHost(d, Reference.RandomNormal(12, 4), 4, 3);
        using var bias = Tensor.FromHost(d, Reference.RandomNormal(2, 5), 2);
        Assert.Contains("bias", Assert.Throws<ArgumentException>(() => LinearGeglu.Forward(x, w, bias)).Message);
    }

    [Fact]
    public void The_cpu_accelerator_always_runs_the_portable_composition()
    {
        using var x = Tensor.FromHost(device, Reference.RandomNormal(6, 1), 2, 3);
        using var w = Tensor.FromHost(device, Reference.RandomNormal(12, 2), 4, 3);
        var args = LinearGeglu.Arguments(x, w, null);
        using (args.Output) Assert.Same(LinearGeglu.Portable, LinearGeglu.Select(device, args));
    }

    /// <summary>float64 of (x·Wᵀ + b) split into (hidden, gate) → hidden · GELU(gate), GELU in its erf form.</summary>
    private static double[] Host(float[] x, float[] w, float[]? b, int rows, int c, int inner)
    {
        var y = new double[rows * inner];
        for (int r = 0; r < rows; r++)
            for (int f = 0; f < inner; f++)
            {
                double hidden = b?[f] ?? 0, gate = b?[inner + f] ?? 0;
                for (int k = 0; k < c; k++)
                {
                    hidden += (double)x[r * c + k] * w[f * c + k];
                    gate += (double)x[r * c + k] * w[(inner + f) * c + k];
                }
                y[r * inner + f] = hidden * gate * 0.5 * ErfReference.Erfc(-gate / Math.Sqrt(2));
            }
        return y;
    }

    private static float[] Stored(float[] values, bool f16) => f16 ? values.Select(v => (float)(System.Half)v).ToArray() : values;

    private Tensor Upload(float[] values, bool f16, params int[] shape) =>
        f16 ? Tensor.FromHost(device, values.Select(v => (System.Half)v).ToArray(), shape) : Tensor.FromHost(device, values, shape);

    private static void Fill(Tensor t, float value) => t.CopyFromHost(Enumerable.Repeat(value, t.Count).ToArray());
}
