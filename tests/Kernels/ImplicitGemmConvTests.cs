using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;
using Device = IlgpuDiffusion.Kernels.Device;

namespace IlgpuDiffusion.Tests.Kernels;

/// <summary>
/// The implicit-GEMM convolution (<see cref="Conv2dImplicitGemm"/>) run on the wide CPU accelerator with tiny test
/// tiles (and the CUDA tile once, at a shape ≤ 32), against the portable convolution and float64; its tensor-core
/// kernel through the m16n8k16 CPU fallback, against float64 of the F16-rounded operands; the residual the
/// convolution now fuses; the self-check's probe; and the dispatcher, which never picks a tuned kernel on the CPU.
/// </summary>
public class ImplicitGemmConvTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.WideCpu;

    /// <summary>Input [N, H, W, Cin], weight [Cout, Kh, Kw, Cin], strides and padding.</summary>
    public sealed record Case(int N, int H, int W, int Cin, int Cout, int Kh, int Kw, Conv2dParams P)
    {
        public int Hout => P.OutputHeight(H, Kh);

        public int Wout => P.OutputWidth(W, Kw);

        public int[] XShape => [N, H, W, Cin];

        public int[] WShape => [Cout, Kh, Kw, Cin];

        public int[] YShape => [N, Hout, Wout, Cout];

        public int XCount => N * H * W * Cin;

        public int YCount => N * Hout * Wout * Cout;
    }

    /// <summary>Cin 3 and 5 are not multiples of any tile depth; the VAE's stride-2 conv pads (top 0, bottom 1, left 0, right 1).</summary>
    private static readonly Dictionary<string, Case> cases = new()
    {
        ["3x3 s1 p1"] = new Case(2, 5, 6, 3, 7, 3, 3, Conv2dParams.Symmetric(1, 1)),
        ["3x3 s2 p1"] = new Case(1, 7, 6, 5, 4, 3, 3, Conv2dParams.Symmetric(2, 1)),
        ["3x3 s2 VAE pad (0,1,0,1)"] = new Case(1, 6, 7, 3, 9, 3, 3, new Conv2dParams(2, 2, 0, 1, 0, 1)),
        ["1x1"] = new Case(2, 3, 4, 5, 6, 1, 1, Conv2dParams.Symmetric(1, 0)),
    };

    private static readonly Dictionary<string, Action<Device, Conv2d.ForwardArgs>> tiled = new()
    {
        ["tiled-8"] = Conv2dImplicitGemm.Launch<TiledGemm8>,
        ["tiled-128"] = Conv2dImplicitGemm.Launch<TiledGemm128>,
    };

    private static readonly Dictionary<string, Action<Device, Conv2d.ForwardArgs>> tensorCores = new()
    {
        ["tensor-core-16"] = Conv2dImplicitGemm.LaunchTensorCores<TensorCoreGemm16>,
        ["tensor-core-32"] = Conv2dImplicitGemm.LaunchTensorCores<TensorCoreGemm32>,
    };

    public static TheoryData<string, string, bool, bool> TiledCases()
    {
        var data = new TheoryData<string, string, bool, bool>();
        foreach (var name in cases.Keys)
            foreach (bool f16 in new[] { false, true })
                data.Add("tiled-8", name, f16, name != "1x1");
        data.Add("tiled-8", "1x1", false, false);
        data.Add("tiled-128", "3x3 s1 p1", false, true);
        return data;
    }

    [Theory]
    [MemberData(nameof(TiledCases))]
    public void Tiled_implicit_gemm_matches_the_portable_convolution_and_float64(string kernel, string name, bool f16, bool withResidual)
    {
        using var problem = new Problem(device, cases[name], f16, withBias: true, withResidual, seed: name.Length);
        var tuned = problem.Run(tiled[kernel]);
        var portable = problem.Run(Conv2d.Portable.Launch);
        double error = Reference.RelativeError(tuned, portable);
        double exact = Reference.RelativeError(tuned, problem.Host(roundX: false));
        output.WriteLine($"{kernel} {name} f16={f16} residual={withResidual}: vs portable {error:E2}, vs float64 {exact:E2}");
        Assert.True(error <= 1e-6, $"relative error {error}"); // fp32 both ways; only the summation order differs
        Assert.True(exact <= 1e-6, $"relative error {exact}"); // fp32 accumulation of ≤ 45 products
    }

    public static TheoryData<string, string> TensorCoreCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in cases.Keys) data.Add("tensor-core-16", name);
        data.Add("tensor-core-32", "3x3 s1 p1");
        return data;
    }

    [Theory]
    [MemberData(nameof(TensorCoreCases))]
    public void Tensor_core_implicit_gemm_is_the_exact_convolution_of_f16_rounded_operands(string kernel, string name)
    {
        using var problem = new Problem(device, cases[name], f16: true, withBias: true, withResidual: true, seed: name.Length + 50);
        var tuned = problem.Run(tensorCores[kernel]);
        double exact = Reference.RelativeError(tuned, problem.Host(roundX: true));
        double portable = Reference.RelativeError(tuned, problem.Run(Conv2d.Portable.Launch));
        output.WriteLine($"{kernel} {name}: vs float64 of the F16-rounded operands {exact:E2}, vs portable {portable:E2}");
        Assert.True(exact <= 1e-5, $"relative error {exact}"); // fp16 products are exact in fp32; fp32 accumulation only
        Assert.True(portable <= 5e-3, $"relative error {portable}"); // fp16 path bound
    }

    [Fact]
    public void Forward_adds_the_residual_in_the_same_pass_and_checks_its_shape()
    {
        var c = cases["3x3 s2 p1"];
        using var problem = new Problem(Devices.Portable, c, f16: false, withBias: true, withResidual: true, seed: 3);
        using var y = Conv2d.ForwardWithResidual(problem.X, problem.Weight, problem.Bias, c.P, problem.Residual!);
        double error = Reference.RelativeError(y.ToFloatArray(), problem.Host(roundX: false));
        output.WriteLine($"conv + residual vs float64: {error:E2}");
        Assert.True(error <= 1e-6, $"relative error {error}"); // fp32 accumulation of 45 products

        // In place: the residual is the output, as a resnet block may add its shortcut into a scratch buffer.
        using var inPlace = Tensor.FromHost(Devices.Portable, problem.ResidualValues, c.YShape);
        Conv2d.Forward(problem.X, problem.Weight, problem.Bias, c.P, inPlace, inPlace);
        Assert.Equal(y.ToFloatArray(), inPlace.ToFloatArray());

        using var wrong = Tensor.Empty(Devices.Portable, DType.F32, c.N, c.Hout, c.Wout, c.Cout + 1);
        var error2 = Assert.Throws<ArgumentException>(() => Conv2d.ForwardWithResidual(problem.X, problem.Weight, problem.Bias, c.P, wrong));
        Assert.Equal("residual", error2.ParamName);
        Assert.Contains($"[{c.N}, {c.Hout}, {c.Wout}, {c.Cout}]", error2.Message);
    }

    [Fact]
    public void Self_check_probe_accepts_the_portable_kernel_and_switches_off_a_wrong_one()
    {
        var good = Conv2dSelfCheck.Guard(Conv2d.Portable with { Name = "conv-like-portable" }, Conv2d.Portable, TextWriter.Null);
        Assert.True(good.Passes(Devices.Portable));

        // A kernel that forgets the residual: the probe has one, so the check must see the difference.
        var forgetful = new KernelVariant<Conv2d.ForwardArgs>("conv-without-residual", KernelTier.CudaTuned, (_, _) => true,
            (d, args) => Conv2d.Portable.Launch(d, args with { Residual = null }));
        var log = new StringWriter();
        var bad = Conv2dSelfCheck.Guard(forgetful, Conv2d.Portable, log);
        Assert.False(bad.Passes(Devices.Portable));
        Assert.Contains("conv-without-residual", log.ToString());
        Assert.Contains("switched off", log.ToString());
    }

    [Fact]
    public void The_cpu_accelerator_always_runs_the_portable_convolution()
    {
        var c = cases["3x3 s1 p1"];
        foreach (bool f16 in new[] { false, true })
        {
            using var problem = new Problem(device, c, f16, withBias: true, withResidual: true, seed: 1);
            using var y = Tensor.Empty(device, DType.F32, c.YShape);
            Assert.Same(Conv2d.Portable, Conv2d.SelectForward(device, problem.Arguments(y)));
        }
    }

    /// <summary>One convolution's inputs on a device, its launches, and its float64 reference.</summary>
    private sealed class Problem : IDisposable
    {
        private readonly Device device;
        private readonly Case c;
        private readonly float[] x, w, b;

        public Problem(Device device, Case c, bool f16, bool withBias, bool withResidual, int seed)
        {
            this.device = device;
            this.c = c;
            x = Reference.RandomNormal(c.XCount, seed);
            w = Reference.RandomNormal(c.Cout * c.Kh * c.Kw * c.Cin, seed + 1);
            b = withBias ? Reference.RandomNormal(c.Cout, seed + 2) : new float[c.Cout];
            if (f16)
            {
                w = w.Select(v => (float)(System.Half)v).ToArray();
                b = b.Select(v => (float)(System.Half)v).ToArray();
            }
            ResidualValues = withResidual ? Reference.RandomNormal(c.YCount, seed + 3) : new float[c.YCount];
            X = Tensor.FromHost(device, x, c.XShape);
            Weight = f16 ? Tensor.FromHost(device, w.Select(v => (System.Half)v).ToArray(), c.WShape) : Tensor.FromHost(device, w, c.WShape);
            Bias = !withBias ? null : f16 ? Tensor.FromHost(device, b.Select(v => (System.Half)v).ToArray(), c.Cout) : Tensor.FromHost(device, b, c.Cout);
            Residual = withResidual ? Tensor.FromHost(device, ResidualValues, c.YShape) : null;
        }

        public Tensor X { get; }

        public Tensor Weight { get; }

        public Tensor? Bias { get; }

        public Tensor? Residual { get; }

        public float[] ResidualValues { get; }

        /// <summary>The validated arguments of this convolution into <paramref name="output"/>.</summary>
        public Conv2d.ForwardArgs Arguments(Tensor output) => Conv2d.ForwardArguments(X, Weight, Bias, c.P, output, Residual);

        /// <summary>Runs <paramref name="launch"/> into an output pre-filled with garbage and returns it.</summary>
        public float[] Run(Action<Device, Conv2d.ForwardArgs> launch)
        {
            using var y = Tensor.FromHost(device, Enumerable.Repeat(float.NaN, c.YCount).ToArray(), c.YShape);
            launch(device, Arguments(y));
            return y.ToFloatArray();
        }

        /// <summary>The float64 convolution (+ bias + residual); with <paramref name="roundX"/> the input rounded to F16 first.</summary>
        public double[] Host(bool roundX)
        {
            var xs = roundX ? x.Select(v => (double)(float)(System.Half)v).ToArray() : x.Select(v => (double)v).ToArray();
            var y = new double[c.YCount];
            for (int n = 0; n < c.N; n++)
                for (int oh = 0; oh < c.Hout; oh++)
                    for (int ow = 0; ow < c.Wout; ow++)
                        for (int co = 0; co < c.Cout; co++)
                        {
                            int i = ((n * c.Hout + oh) * c.Wout + ow) * c.Cout + co;
                            double s = b[co] + ResidualValues[i];
                            for (int ky = 0; ky < c.Kh; ky++)
                                for (int kx = 0; kx < c.Kw; kx++)
                                {
                                    int ih = oh * c.P.StrideH - c.P.PadTop + ky, iw = ow * c.P.StrideW - c.P.PadLeft + kx;
                                    if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
                                    for (int ci = 0; ci < c.Cin; ci++)
                                        s += xs[((n * c.H + ih) * c.W + iw) * c.Cin + ci] * w[((co * c.Kh + ky) * c.Kw + kx) * c.Cin + ci];
                                }
                            y[i] = s;
                        }
            return y;
        }

        public void Dispose()
        {
            X.Dispose();
            Weight.Dispose();
            Bias?.Dispose();
            Residual?.Dispose();
        }
    }
}
