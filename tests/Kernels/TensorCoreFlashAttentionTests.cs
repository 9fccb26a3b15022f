using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;
using Device = IlgpuDiffusion.Kernels.Device;

namespace IlgpuDiffusion.Tests.Kernels;

/// <summary>
/// The tensor-core flash-attention forward, run on the wide CPU accelerator through <see cref="TensorCore"/>'s
/// fragment-layout fallback (the dispatcher never picks it there) with its test shapes, at ≤ 32 queries and ≤ 45
/// keys: against the portable kernel (the fp16 bound) and against a float64 attention of the fp16-rounded q, k, v
/// (which isolates the kernel's own error: P's rounding to fp16 and fp32 arithmetic). Also the self-check's probe,
/// the dispatcher on the CPU, launches refused before they reach a kernel, and ptxas (no spills, no stack).
/// </summary>
public class TensorCoreFlashAttentionTests(ITestOutputHelper log)
{
    private readonly Device device = Devices.WideCpu;

    private static readonly Dictionary<string, Action<Device, AttentionForwardArgs>> Shapes = new()
    {
        ["test-48"] = TensorCoreFlashAttention.Launch<TensorCoreFlashTest48>,
        ["test-80"] = TensorCoreFlashAttention.Launch<TensorCoreFlashTest80>,
    };

    public static TheoryData<string, int, int, int, int, int, bool> Cases => new()
    {
        // shape, n, h, d, lq, lk, causal. test-48 owns 32 queries (2 warps) and streams 16 keys; test-80 owns 16
        // queries and streams 32 keys, so every case has a partial last query block and a partial last key block.
        { "test-48", 1, 2, 40, 20, 20, false },  // self-attention, D = 40 padded to 48
        { "test-48", 2, 1, 40, 9, 27, false },   // cross-attention, 27 keys
        { "test-48", 1, 2, 40, 20, 20, true },   // causal
        { "test-80", 1, 1, 80, 20, 20, false },  // two query blocks
        { "test-80", 1, 1, 80, 9, 45, false },   // cross-attention, two key blocks
        { "test-80", 1, 1, 80, 20, 20, true },   // causal: the second query block stops after its own key block
        { "test-80", 1, 1, 72, 9, 13, false },   // D = 72 padded to 80
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Test_shapes_match_the_portable_kernel_and_float64_of_f16_inputs(
        string shape, int n, int h, int d, int lq, int lk, bool causal)
    {
        var dims = new AttentionDims(n, h, lq, lk, d, d, 1f / MathF.Sqrt(d), causal ? 1 : 0);
        using var t = Operands.Create(device, dims, seed: 3 * d + lq + 7 * lk);
        var (output, lse) = t.Run(Shapes[shape], dims);
        var (portableOutput, portableLse) = t.Run(Attention.PortableForward.Launch, dims);
        var (exactOutput, exactLse) = t.Float64OfF16Inputs(dims);

        double vsPortable = Reference.RelativeError(output, portableOutput), lseVsPortable = Reference.RelativeError(lse, portableLse);
        double vsExact = Reference.RelativeError(output, exactOutput), lseVsExact = Reference.RelativeError(lse, exactLse);
        log.WriteLine($"output vs portable {vsPortable:E2}, vs float64 of f16 inputs {vsExact:E2}; " +
                      $"logsumexp vs portable {lseVsPortable:E2}, vs float64 of f16 inputs {lseVsExact:E2}");
        Assert.All(output, x => Assert.True(float.IsFinite(x)));
        Assert.True(vsPortable <= 5e-3 && lseVsPortable <= 5e-3, "fp16 bound"); // rounding q, k, v and P to fp16
        // Against the same fp16 inputs only P's rounding (2⁻¹¹ relative per weight) and fp32 sums remain in the
        // output; the logsumexp comes from the fp32 scores, exact products of fp16 values summed in fp32.
        Assert.True(vsExact <= 1e-3, $"output vs float64 of f16 inputs {vsExact:E2}");
        Assert.True(lseVsExact <= 1e-5, $"logsumexp vs float64 of f16 inputs {lseVsExact:E2}");
    }

    [Fact]
    public void Large_logits_are_rescaled_online_and_stay_finite()
    {
        // Logits up to about ±60 that peak in different key blocks: exp would overflow without the running max, and
        // the rescaling by exp(m_old − m_new) decides the result. fp16 inputs move such logits by ~0.03, far beyond
        // the fp16 bound against the fp32 portable kernel, so the reference is the float64 of the fp16 inputs.
        var dims = new AttentionDims(1, 2, 9, 45, 72, 72, 3f, 0);
        using var t = Operands.Create(device, dims, seed: 77);
        var (output, lse) = t.Run(Shapes["test-80"], dims);
        var (exactOutput, exactLse) = t.Float64OfF16Inputs(dims);
        double error = Reference.RelativeError(output, exactOutput), lseError = Reference.RelativeError(lse, exactLse);
        log.WriteLine($"max |logit| {exactLse.Max():F1}; output vs float64 of f16 inputs {error:E2}, logsumexp {lseError:E2}");
        Assert.True(exactLse.Max() > 30, "the logits are large");
        Assert.All(output, x => Assert.True(float.IsFinite(x)));
        Assert.True(error <= 1e-3, $"output {error:E2}");
        Assert.True(lseError <= 1e-5, $"logsumexp {lseError:E2}");
    }

    [Fact]
    public void Launches_that_do_not_fit_are_refused_before_the_kernel()
    {
        var dims = new AttentionDims(1, 1, 5, 5, 80, 80, 0.1f, 0);
        using var t = Operands.Create(device, dims, seed: 5);
        var args = new AttentionForwardArgs(t.Q, t.K, t.V, t.Output, t.LogSumExp, dims);
        Assert.Contains("head dim 80", Assert.Throws<ArgumentException>(() => Shapes["test-48"](device, args)).Message);
        Assert.Contains("no CUDA shape for head dim 64", Assert.Throws<ArgumentException>(
            () => TensorCoreFlashAttention.Launch(device, args with { Dims = dims with { HeadDim = 64, ValueDim = 64 } })).Message);
        Assert.Contains("value head dim", Assert.Throws<ArgumentException>(
            () => Shapes["test-80"](device, args with { Dims = dims with { ValueDim = 40 } })).Message);
        using var narrow = Device.OpenCpu(); // 2-lane warps
        using var onNarrow = Operands.Create(narrow, dims, seed: 5);
        var narrowArgs = new AttentionForwardArgs(onNarrow.Q, onNarrow.K, onNarrow.V, onNarrow.Output, onNarrow.LogSumExp, dims);
        Assert.Contains("mma.sync needs 32", Assert.Throws<ArgumentException>(() => Shapes["test-80"](narrow, narrowArgs)).Message);
    }

    [Fact]
    public void The_dispatcher_never_picks_tensor_cores_on_the_cpu_accelerator()
    {
        var saved = Environment.GetEnvironmentVariable(KernelPolicy.TensorCoresVariable);
        Environment.SetEnvironmentVariable(KernelPolicy.TensorCoresVariable, "1");
        try
        {
            var dims = new AttentionDims(1, 2, 9, 13, 40, 40, 0.15f, 0);
            using var t = Operands.Create(device, dims, seed: 9);
            var args = new AttentionForwardArgs(t.Q, t.K, t.V, t.Output, t.LogSumExp, dims);
            Assert.Same(Attention.PortableForward, Attention.ForwardDispatcher.Select(device, args));
            Assert.Same(Attention.PortableForward, Attention.ForwardDispatcher.Select(device, args, KernelTier.CudaTuned));
            Assert.False(TensorCoreFlashAttention.Variant.Supports(device, args));
        }
        finally
        {
            Environment.SetEnvironmentVariable(KernelPolicy.TensorCoresVariable, saved);
        }
    }

    [Fact]
    public void The_self_check_probes_every_cuda_shape_and_switches_a_wrong_variant_off()
    {
        var device = Devices.Portable; // the probe runs the portable kernel only
        var seen = new List<AttentionDims>();
        AttentionSelfCheck.Probe(device, (dv, a) => { seen.Add(a.Dims); Attention.PortableForward.Launch(dv, a); });
        Assert.Equal([40, 80, 160], seen.Select(d => d.HeadDim).Distinct().Order());
        Assert.Contains(seen, d => d.Causal == 1);
        Assert.Contains(seen, d => d.KeyLength == 77);
        Assert.Contains(seen, d => d.QueryLength > 64 && d.KeyLength > 64 && d.KeyLength % 64 != 0);

        var warningLog = new StringWriter();
        var wrongScale = new KernelVariant<AttentionForwardArgs>("attention-wrong-scale", KernelTier.CudaTuned, (_, _) => true,
            (dv, a) => Attention.PortableForward.Launch(dv, a with { Dims = a.Dims with { Scale = 1.1f * a.Dims.Scale } }));
        var check = AttentionSelfCheck.Guard(wrongScale, Attention.PortableForward, warningLog);
        Assert.False(check.Passes(device));
        Assert.False(check.Passes(device)); // the verdict is kept: one warning
        var throwing = new KernelVariant<AttentionForwardArgs>("attention-throwing", KernelTier.CudaTuned, (_, _) => true,
            (_, _) => throw new InvalidOperationException("launch failed"));
        Assert.False(AttentionSelfCheck.Guard(throwing, Attention.PortableForward, warningLog).Passes(device));
        var warnings = warningLog.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var warning in warnings) log.WriteLine(warning);
        Assert.Equal(2, warnings.Length);
        Assert.Contains("'attention-wrong-scale' failed its self-check", warnings[0]);
        Assert.Contains("launch failed", warnings[1]);

        var goodLog = new StringWriter();
        var same = Attention.PortableForward with { Name = "attention-same", Tier = KernelTier.CudaTuned };
        Assert.True(AttentionSelfCheck.Guard(same, Attention.PortableForward, goodLog).Passes(device));
        Assert.Empty(goodLog.ToString());
    }

    [Fact]
    public void Cuda_shapes_fit_48_kb_in_whole_warps()
    {
        foreach (var (block, dims) in new[]
                 {
                     (TensorCoreFlashAttention.Block<TensorCoreFlash40>(), new[] { 40 }),
                     (TensorCoreFlashAttention.Block<TensorCoreFlash80>(), new[] { 80 }),
                     (TensorCoreFlashAttention.Block<TensorCoreFlash160>(), new[] { 160 }),
                 })
        {
            log.WriteLine($"{block.Name}: {block.Threads} threads, {block.QueryBlock} queries × {block.KeyBlock} keys, " +
                          $"D padded to {block.PaddedHeadDim}, {block.SharedBytes} B shared");
            Assert.True(block.SharedBytes <= 48 * 1024, block.Name);
            Assert.Equal(128, block.Threads);
            Assert.Equal(0, block.PaddedHeadDim % 16);
            Assert.Equal(0, block.KeyBlock % 16);
            Assert.All(dims, d => Assert.True(d > block.PaddedHeadDim - 16 && d <= block.PaddedHeadDim));
        }
    }

    [Theory]
    [InlineData("sm_80")]
    [InlineData("sm_90")]
    public void Every_shape_assembles_with_no_spills_and_no_stack(string arch)
    {
        // ILGPU 1.5.3 unrolls no loop: one non-constant index into a register tile would move it to local memory.
        var entries = KernelRegistry.All.Where(k => k.Name.StartsWith("TensorCoreFlashAttention.", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, entries.Count);
        var directory = Directory.CreateTempSubdirectory("idf-tcflash-ptx-");
        try
        {
            var result = PtxValidation.Run(PtxArchitecture.Parse(arch), PtxasLocator.Locate(), directory.FullName, entries);
            log.WriteLine(PtxReport.Format(result));
            Assert.All(result.Kernels, kernel =>
            {
                Assert.True(kernel.Succeeded, $"{kernel.Name}: {kernel.Failure}");
                Assert.True(kernel.Resources is { SpillStoreBytes: 0, SpillLoadBytes: 0, StackFrameBytes: 0 }, $"{kernel.Name}: {kernel.Resources}");
            });
            // The mma.sync instruction is there, not the fallback's shuffles.
            var ptx = File.ReadAllText(Path.Combine(directory.FullName, "TensorCoreFlashAttention.ForwardKernel_TensorCoreFlash80.ptx"));
            Assert.Contains("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32", ptx);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Random q, k, v and the output tensors of one attention problem.</summary>
    private sealed class Operands : IDisposable
    {
        public required Tensor Q, K, V, Output, LogSumExp;
        public required float[] HostQ, HostK, HostV;

        public static Operands Create(Device device, AttentionDims d, int seed)
        {
            int channels = d.Heads * d.HeadDim;
            var q = Reference.RandomNormal(d.Batch * d.QueryLength * channels, seed);
            var k = Reference.RandomNormal(d.Batch * d.KeyLength * channels, seed + 1);
            var v = Reference.RandomNormal(d.Batch * d.KeyLength * channels, seed + 2);
            return new Operands
            {
                HostQ = q, HostK = k, HostV = v,
                Q = Tensor.FromHost(device, q, d.Batch, d.QueryLength, channels),
                K = Tensor.FromHost(device, k, d.Batch, d.KeyLength, channels),
                V = Tensor.FromHost(device, v, d.Batch, d.KeyLength, channels),
                Output = Tensor.Empty(device, DType.F32, d.Batch, d.QueryLength, channels),
                LogSumExp = Tensor.Empty(device, DType.F32, d.Batch, d.Heads, d.QueryLength),
            };
        }

        public (float[] Output, float[] LogSumExp) Run(Action<Device, AttentionForwardArgs> launch, AttentionDims d)
        {
            launch(Q.Device, new AttentionForwardArgs(Q, K, V, Output, LogSumExp, d));
            return (Output.ToFloatArray(), LogSumExp.ToFloatArray());
        }

        /// <summary>The attention in float64 of q, k, v rounded to fp16 (to nearest even), as the tensor cores read them.</summary>
        public (double[] Output, double[] LogSumExp) Float64OfF16Inputs(AttentionDims d)
        {
            static double[] Round(float[] x) => x.Select(v => (double)(float)(Half)v).ToArray();
            double[] q = Round(HostQ), k = Round(HostK), v = Round(HostV);
            var output = new double[q.Length];
            var lse = new double[d.Batch * d.Heads * d.QueryLength];
            var logits = new double[d.KeyLength];
            for (int n = 0; n < d.Batch; n++)
                for (int h = 0; h < d.Heads; h++)
                    for (int i = 0; i < d.QueryLength; i++)
                    {
                        int keys = d.KeysFor(i), qRow = d.QueryRow(n, h, i);
                        double max = double.NegativeInfinity;
                        for (int j = 0; j < keys; j++)
                        {
                            double s = 0;
                            for (int c = 0; c < d.HeadDim; c++) s += q[qRow + c] * k[d.KeyRow(n, h, j) + c];
                            logits[j] = d.Scale * s;
                            max = Math.Max(max, logits[j]);
                        }
                        double sum = 0;
                        for (int j = 0; j < keys; j++) sum += Math.Exp(logits[j] - max);
                        double logSumExp = max + Math.Log(sum);
                        lse[d.Statistic(n, h, i)] = logSumExp;
                        for (int j = 0; j < keys; j++)
                        {
                            double p = Math.Exp(logits[j] - logSumExp);
                            for (int c = 0; c < d.ValueDim; c++) output[d.OutputRow(n, h, i) + c] += p * v[d.ValueRow(n, h, j) + c];
                        }
                    }
            return (output, lse);
        }

        public void Dispose()
        {
            foreach (var t in new[] { Q, K, V, Output, LogSumExp }) t.Dispose();
        }
    }
}
