using ILGPU;
using ILGPU.Runtime;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;
using Device = IlgpuDiffusion.Kernels.Device;
using Half = ILGPU.Half;

namespace IlgpuDiffusion.Tests.Kernels;

/// <summary>
/// The CUDA-tuned GEMM kernels, run on the wide CPU accelerator with tiny test tiles and with the CUDA shapes
/// themselves (at shapes ≤ 32: barriers cost about 1 ms each there), against the portable kernel and float64; the
/// tensor-core kernel through its CPU fallback, which follows the PTX ISA's m16n8k16 fragment layout; the
/// self-check that switches a disagreeing variant off; and the dispatcher's choices on the CPU accelerator.
/// </summary>
public class TunedGemmTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.WideCpu;

    /// <summary>How the batch is laid out: both operands batched, or one of them a single matrix shared by the batch.</summary>
    public enum Sharing { None, SharedA, SharedB }

    /// <summary>(batch, M, K, N): one element, odd sizes below and across a block, and a full 32³.</summary>
    private static readonly (int Batch, int M, int K, int N)[] Sizes = [(1, 1, 1, 1), (1, 5, 3, 7), (2, 17, 9, 13), (1, 32, 32, 32)];

    private static readonly Dictionary<string, Action<Device, GemmArgs>> Tiled = new()
    {
        ["tiled-8"] = TiledGemm.Launch<TiledGemm8>,
        ["tiled-128"] = TiledGemm.Launch<TiledGemm128>,
    };

    private static readonly Dictionary<string, Action<Device, GemmArgs>> TensorCores = new()
    {
        ["tensor-core-16"] = TensorCoreGemm.Launch<TensorCoreGemm16>,
        ["tensor-core-32"] = TensorCoreGemm.Launch<TensorCoreGemm32>,
        ["tensor-core-128"] = TensorCoreGemm.Launch<TensorCoreGemm128>,
    };

    public static TheoryData<string, int, int, int, int, bool, bool, bool, Sharing> TiledCases()
    {
        var data = new TheoryData<string, int, int, int, int, bool, bool, bool, Sharing>();
        foreach (var kernel in Tiled.Keys)
            foreach (var (batch, m, k, n) in Sizes)
                foreach (bool transA in new[] { false, true })
                    foreach (bool transB in new[] { false, true })
                        foreach (bool f16 in new[] { false, true })
                            data.Add(kernel, batch, m, k, n, transA, transB, f16, Sharing.None);
        foreach (var kernel in Tiled.Keys)
            foreach (var sharing in new[] { Sharing.SharedA, Sharing.SharedB })
                foreach (bool f16 in new[] { false, true })
                    data.Add(kernel, 3, 6, 11, 5, sharing == Sharing.SharedB, sharing == Sharing.SharedA, f16, sharing);
        return data;
    }

    [Theory]
    [MemberData(nameof(TiledCases))]
    public void Tiled_kernel_matches_the_portable_kernel(
        string kernel, int batch, int m, int k, int n, bool transA, bool transB, bool f16, Sharing sharing)
    {
        using var problem = new Problem(device, batch, m, k, n, transA, transB, f16, sharing, seed: m * 31 + k * 7 + n);
        var tuned = problem.Run(Tiled[kernel]);
        var portable = problem.Run(Gemm.Portable.Launch);
        double error = Reference.RelativeError(tuned, portable.Select(v => (double)v).ToArray());
        output.WriteLine($"{kernel}: relative error vs portable {error:E2}");
        Assert.True(error <= 1e-6, $"relative error {error}"); // fp32 both ways; only the summation order differs
    }

    [Theory]
    [InlineData("tiled-8", false)]
    [InlineData("tiled-8", true)]
    [InlineData("tiled-128", false)]
    [InlineData("tiled-128", true)]
    public void Tiled_kernel_applies_alpha_bias_and_beta_like_the_portable_kernel(string kernel, bool f16)
    {
        using var problem = new Problem(device, 2, 19, 10, 12, false, true, f16, Sharing.SharedB, seed: 90,
            alpha: 0.5f, beta: -2f, withBias: true);
        var tuned = problem.Run(Tiled[kernel]);
        var portable = problem.Run(Gemm.Portable.Launch);
        double error = Reference.RelativeError(tuned, portable.Select(v => (double)v).ToArray());
        output.WriteLine($"{kernel}: relative error vs portable {error:E2}");
        Assert.True(error <= 1e-6, $"relative error {error}"); // fp32 both ways
    }

    public static TheoryData<string, int, int, int, int, bool, bool, Sharing> TensorCoreCases()
    {
        var data = new TheoryData<string, int, int, int, int, bool, bool, Sharing>();
        foreach (var kernel in new[] { "tensor-core-16", "tensor-core-32" })
            foreach (var (batch, m, k, n) in Sizes[1..])
                foreach (bool transA in new[] { false, true })
                    foreach (bool transB in new[] { false, true })
                        data.Add(kernel, batch, m, k, n, transA, transB, Sharing.None);
        foreach (var sharing in new[] { Sharing.SharedA, Sharing.SharedB })
            data.Add("tensor-core-16", 3, 6, 11, 5, sharing == Sharing.SharedB, sharing == Sharing.SharedA, sharing);
        // The CUDA shape itself, as Linear uses it: 8 warps of 4 × 4 tiles, whose emulated shuffles take about 25 s here.
        data.Add("tensor-core-128", 1, 32, 32, 32, false, true, Sharing.None);
        return data;
    }

    [Theory]
    [MemberData(nameof(TensorCoreCases))]
    public void Tensor_core_kernel_is_the_exact_product_of_f16_rounded_operands(
        string kernel, int batch, int m, int k, int n, bool transA, bool transB, Sharing sharing)
    {
        using var problem = new Problem(device, batch, m, k, n, transA, transB, f16: true, sharing, seed: m * 13 + k * 5 + n,
            alpha: 0.75f, beta: 0.5f, withBias: true);
        var tuned = problem.Run(TensorCores[kernel]);
        double exact = Reference.RelativeError(tuned, problem.Host(roundA: true));
        double portable = Reference.RelativeError(tuned, problem.Run(Gemm.Portable.Launch).Select(v => (double)v).ToArray());
        output.WriteLine($"{kernel}: vs float64 of the F16-rounded operands {exact:E2}, vs portable {portable:E2}");
        Assert.True(exact <= 1e-5, $"relative error {exact}"); // fp16 products are exact in fp32; fp32 accumulation only
        Assert.True(portable <= 5e-3, $"relative error {portable}"); // fp16 path bound
    }

    [Fact]
    public void Activations_round_to_f16_to_nearest_even_like_cvt_rn()
    {
        var random = new Random(5);
        var values = new List<float>
        {
            0f, -0f, 1f, -1f, 65504f, 65519.996f, 65520f, -65536f, 1e10f, float.PositiveInfinity, float.NegativeInfinity,
            MathF.Pow(2, -14), MathF.Pow(2, -24), MathF.Pow(2, -25), 3 * MathF.Pow(2, -26), MathF.Pow(2, -26), 1e-30f,
            1f + MathF.Pow(2, -11), 1f + 3 * MathF.Pow(2, -11), float.Epsilon, 6.1e-5f, 2049f, 2051f,
        };
        for (int i = 0; i < 200_000; i++) values.Add(BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 1L << 32)));
        foreach (var value in values)
        {
            var expected = (System.Half)value;
            var actual = BitConverter.UInt16BitsToHalf(TensorCore.RoundToHalfBits(BitConverter.SingleToUInt32Bits(value)));
            if (System.Half.IsNaN(expected)) Assert.True(System.Half.IsNaN(actual), $"{value}");
            else Assert.True(BitConverter.HalfToUInt16Bits(expected) == BitConverter.HalfToUInt16Bits(actual), $"{value:R}: {actual} instead of {expected}");
        }
        Assert.True(System.Half.IsNaN(BitConverter.UInt16BitsToHalf(TensorCore.RoundToHalfBits(BitConverter.SingleToUInt32Bits(float.NaN)))));
    }

    [Fact]
    public void Mma_fallback_follows_the_ptx_isa_fragment_layout()
    {
        // Each lane loads its fragments with the PTX ISA's formulas, written here independently of the kernels' tile code.
        var a = Reference.RandomNormal(16 * 16, 11).Select(v => (Half)v).ToArray();
        var b = Reference.RandomNormal(16 * 8, 12).Select(v => (Half)v).ToArray();
        var c = Reference.RandomNormal(16 * 8, 13);
        using var da = device.Accelerator.Allocate1D(a);
        using var db = device.Accelerator.Allocate1D(b);
        using var dc = device.Accelerator.Allocate1D(c);
        using var dd = device.Accelerator.Allocate1D<float>(16 * 8);
        var kernel = device.Accelerator.LoadStreamKernel<ArrayView<Half>, ArrayView<Half>, ArrayView<float>, ArrayView<float>>(Fragments.MmaKernel);
        kernel(new KernelConfig(1, 32), da.View, db.View, dc.View, dd.View);
        device.Synchronize();

        var expected = new double[16 * 8];
        for (int row = 0; row < 16; row++)
            for (int col = 0; col < 8; col++)
            {
                double sum = c[row * 8 + col];
                for (int k = 0; k < 16; k++) sum += (double)(float)a[row * 16 + k] * (float)b[k * 8 + col];
                expected[row * 8 + col] = sum;
            }
        double error = Reference.RelativeError(dd.GetAsArray1D(), expected);
        output.WriteLine($"relative error {error:E2}");
        Assert.True(error <= 1e-6, $"relative error {error}"); // exact fp16 products, fp32 sums of 16 terms
    }

    [Fact]
    public void A_variant_that_disagrees_with_the_portable_kernel_switches_itself_off()
    {
        var device = Devices.Portable; // the probe runs the portable kernel only
        using var problem = new Problem(device, 1, 4, 3, 5, false, true, f16: true, Sharing.None, seed: 1);
        var args = problem.Arguments();
        var log = new StringWriter();

        var broken = new KernelVariant<GemmArgs>("gemm-broken", KernelTier.CudaTuned, (_, _) => true,
            (d, g) => Gemm.Portable.Launch(d, g with { Alpha = g.Alpha * 1.02f }));
        var brokenCheck = GemmSelfCheck.Guard(broken, Gemm.Portable, log);
        var dispatcher = new OpDispatcher<GemmArgs>(Gemm.Portable, brokenCheck.Variant);
        Assert.Same(Gemm.Portable, dispatcher.Select(device, args, KernelTier.CudaTuned));
        Assert.Same(Gemm.Portable, dispatcher.Select(device, args, KernelTier.CudaTuned));
        output.WriteLine(log.ToString());
        var warnings = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(warnings); // checked once per device
        Assert.Contains("'gemm-broken' failed its self-check", warnings[0]);
        Assert.Contains("switched off", warnings[0]);

        var throwing = new KernelVariant<GemmArgs>("gemm-throwing", KernelTier.CudaTuned, (_, _) => true,
            (_, _) => throw new InvalidOperationException("launch failed"));
        Assert.False(GemmSelfCheck.Guard(throwing, Gemm.Portable, log).Passes(device));
        Assert.Contains("launch failed", log.ToString());

        var good = new KernelVariant<GemmArgs>("gemm-good", KernelTier.CudaTuned, (_, _) => true, Gemm.Portable.Launch);
        var goodLog = new StringWriter();
        var goodCheck = GemmSelfCheck.Guard(good, Gemm.Portable, goodLog);
        Assert.Equal("gemm-good", new OpDispatcher<GemmArgs>(Gemm.Portable, goodCheck.Variant).Select(device, args, KernelTier.CudaTuned).Name);
        Assert.Empty(goodLog.ToString());
    }

    [Fact]
    public void The_dispatcher_never_picks_a_tuned_variant_on_the_cpu_accelerator()
    {
        var saved = Environment.GetEnvironmentVariable(KernelPolicy.TensorCoresVariable);
        Environment.SetEnvironmentVariable(KernelPolicy.TensorCoresVariable, "1");
        try
        {
            using var narrow = Device.OpenCpu();
            foreach (var cpu in new[] { device, narrow })
                foreach (bool f16 in new[] { false, true })
                {
                    using var problem = new Problem(cpu, 2, 4, 3, 5, false, true, f16, Sharing.SharedB, seed: 2);
                    Assert.Same(Gemm.Portable, Gemm.Select(cpu, problem.Arguments()));
                    var always = new KernelVariant<GemmArgs>("always", KernelTier.CudaTuned, (_, _) => true, Gemm.Portable.Launch);
                    Assert.Same(Gemm.Portable, new OpDispatcher<GemmArgs>(Gemm.Portable, always).Select(cpu, problem.Arguments()));
                }
        }
        finally
        {
            Environment.SetEnvironmentVariable(KernelPolicy.TensorCoresVariable, saved);
        }
    }

    [Fact]
    public void Tuned_launchers_refuse_a_device_their_group_does_not_fit()
    {
        using var narrow = Device.OpenCpu(); // 2 threads per group, 2-lane warps
        using var problem = new Problem(narrow, 1, 4, 3, 5, false, true, f16: true, Sharing.None, seed: 3);
        var tiled = Assert.Throws<InvalidOperationException>(() => TiledGemm.Launch<TiledGemm128>(narrow, problem.Arguments()));
        Assert.Contains("does not fit", tiled.Message);
        Assert.Throws<InvalidOperationException>(() => TensorCoreGemm.Launch<TensorCoreGemm16>(narrow, problem.Arguments()));
    }

    [Fact]
    public void The_tuned_kernels_are_registered_for_the_ptx_check()
    {
        var names = KernelRegistry.All.Select(k => k.Name).ToList();
        Assert.Contains("TiledGemm.TiledKernel_Single_WidenF32_TiledGemm128", names);
        Assert.Contains("TiledGemm.TiledKernel_Half_WidenF16_TiledGemm128", names);
        Assert.Contains("TensorCoreGemm.TensorCoreKernel_TensorCoreGemm128", names);
        Assert.All(KernelRegistry.All.Where(k => k.Name.StartsWith("TiledGemm") || k.Name.StartsWith("TensorCoreGemm")),
            k => Assert.True(k.ExplicitlyGrouped, k.Name));
    }

    /// <summary>
    /// A kernel that loads one m16n8k16's fragments with the PTX ISA's formulas (public: the CPU accelerator calls it
    /// from its own assembly).
    /// </summary>
    public static class Fragments
    {
        /// <summary>One warp: A [16, 16] and B [16, 8] row-major F16, C and D [16, 8] F32; D = A·B + C through the fragments.</summary>
        public static void MmaKernel(ArrayView<Half> a, ArrayView<Half> b, ArrayView<float> c, ArrayView<float> d)
        {
            int lane = Warp.LaneIdx, group = lane >> 2, inGroup = lane & 3;
            // c_i: row = groupID for i < 2, else groupID + 8; col = 2·threadID_in_group + (i & 1).
            int top = group * 8 + 2 * inGroup, bottom = (group + 8) * 8 + 2 * inGroup;
            float c0 = c[top], c1 = c[top + 1], c2 = c[bottom], c3 = c[bottom + 1];
            TensorCore.MmaM16N8K16(
                FragmentA(a, lane, 0), FragmentA(a, lane, 2), FragmentA(a, lane, 4), FragmentA(a, lane, 6),
                FragmentB(b, lane, 0), FragmentB(b, lane, 2), ref c0, ref c1, ref c2, ref c3);
            d[top] = c0;
            d[top + 1] = c1;
            d[bottom] = c2;
            d[bottom + 1] = c3;
        }

        /// <summary>
        /// Elements a_i and a_(i+1): row = groupID for i in {0, 1, 4, 5}, else groupID + 8;
        /// col = 2·threadID_in_group + (i &amp; 1), + 8 for i ≥ 4.
        /// </summary>
        private static uint FragmentA(ArrayView<Half> a, int lane, int i)
        {
            int row = (lane >> 2) + (i == 2 || i == 6 ? 8 : 0), col = 2 * (lane & 3) + (i >= 4 ? 8 : 0);
            return TensorCore.Pack(a[row * 16 + col], a[row * 16 + col + 1]);
        }

        /// <summary>Elements b_i and b_(i+1): row = 2·threadID_in_group + (i &amp; 1), + 8 for i ≥ 2; col = groupID.</summary>
        private static uint FragmentB(ArrayView<Half> b, int lane, int i)
        {
            int row = 2 * (lane & 3) + (i >= 2 ? 8 : 0), col = lane >> 2;
            return TensorCore.Pack(b[row * 8 + col], b[(row + 1) * 8 + col]);
        }
    }

    /// <summary>
    /// Random operands of op(A) [M, K] · op(B) [K, N] laid out as the transposes and the sharing say, a random C
    /// (read when beta ≠ 0) and optionally a bias of B's dtype; each run starts from the same C.
    /// </summary>
    private sealed class Problem : IDisposable
    {
        private readonly Device device;
        private readonly float[] a, b, c0, bias;
        private readonly int[] aShape, bShape, cShape;
        private readonly bool transA, transB, f16, withBias;
        private readonly float alpha, beta;
        private readonly Tensor ta, tb, tc;
        private readonly Tensor? tbias;

        public Problem(Device device, int batch, int m, int k, int n, bool transA, bool transB, bool f16, Sharing sharing,
            int seed, float alpha = 1f, float beta = 0f, bool withBias = false)
        {
            (this.device, this.transA, this.transB, this.f16, this.alpha, this.beta, this.withBias) =
                (device, transA, transB, f16, alpha, beta, withBias);
            int[] aMatrix = transA ? [k, m] : [m, k], bMatrix = transB ? [n, k] : [k, n];
            aShape = sharing == Sharing.SharedA ? aMatrix : [batch, .. aMatrix];
            bShape = sharing == Sharing.SharedB ? bMatrix : [batch, .. bMatrix];
            cShape = [batch, m, n];
            a = Reference.RandomNormal(aShape.Aggregate(1, (p, d) => p * d), seed);
            b = Rounded(Reference.RandomNormal(bShape.Aggregate(1, (p, d) => p * d), seed + 1));
            bias = Rounded(Reference.RandomNormal(n, seed + 2));
            c0 = Reference.RandomNormal(batch * m * n, seed + 3);
            ta = Tensor.FromHost(device, a, aShape);
            tb = f16 ? Tensor.FromHost(device, Halves(b), bShape) : Tensor.FromHost(device, b, bShape);
            tbias = !withBias ? null : f16 ? Tensor.FromHost(device, Halves(bias), n) : Tensor.FromHost(device, bias, n);
            tc = Tensor.Empty(device, DType.F32, cShape);
        }

        public GemmArgs Arguments() => Gemm.Arguments(ta, tb, tc, transA, transB, alpha, beta) with { Bias = tbias };

        /// <summary>Runs <paramref name="launch"/> from the initial C and returns the result.</summary>
        public float[] Run(Action<Device, GemmArgs> launch)
        {
            tc.CopyFromHost(c0);
            launch(device, Arguments());
            return tc.ToFloatArray();
        }

        /// <summary>The float64 result, with A rounded to F16 first when <paramref name="roundA"/>.</summary>
        public double[] Host(bool roundA)
        {
            var av = roundA ? a.Select(v => (float)(System.Half)v).ToArray() : a;
            int batch = cShape[0], m = cShape[1], n = cShape[2], k = transA ? aShape[^2] : aShape[^1];
            var c = new double[c0.Length];
            for (int s = 0; s < batch; s++)
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                    {
                        double sum = 0;
                        for (int p = 0; p < k; p++)
                            sum += (double)av[Index(aShape, s, transA ? p : i, transA ? i : p)] * b[Index(bShape, s, transB ? j : p, transB ? p : j)];
                        int at = (s * m + i) * n + j;
                        c[at] = alpha * sum + (withBias ? bias[j] : 0) + beta * c0[at];
                    }
            return c;
        }

        public void Dispose()
        {
            ta.Dispose();
            tb.Dispose();
            tc.Dispose();
            tbias?.Dispose();
        }

        /// <summary>Element (row, col) of batch s of a [rows, cols] matrix (shared) or a [batch, rows, cols] tensor.</summary>
        private static int Index(int[] shape, int s, int row, int col) =>
            ((shape.Length == 3 ? s : 0) * shape[^2] + row) * shape[^1] + col;

        /// <summary>B and the bias are made F16-representable, so that F32 and F16 runs have the same exact product.</summary>
        private float[] Rounded(float[] values) => f16 ? values.Select(v => (float)(System.Half)v).ToArray() : values;

        private static System.Half[] Halves(float[] values) => values.Select(v => (System.Half)v).ToArray();
    }
}
