using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

/// <summary>
/// The CUDA-tuned flash-attention kernels, run directly on the wide CPU accelerator (the dispatcher never picks them
/// there) and compared with the portable kernels on the same inputs. Barriers cost about a millisecond per group on
/// the CPU, so the shapes and tiles are tiny; the CUDA tiles run once each at a short sequence.
/// </summary>
public class FlashAttentionTests(ITestOutputHelper log)
{
    private const double Tolerance = 1e-5;
    private readonly Device device = Devices.WideCpu;

    /// <summary>A CPU test tile: blocks of 4 owned and 6 streamed rows, 2 rows per thread, teams of 2 (4 threads).</summary>
    private static FlashTile Tiny(int headDim) => new(headDim, 4, 6, 2, 2);

    public static TheoryData<int, int, int, int, int, bool> TinyShapes => new()
    {
        // n, h, d, lq, lk, causal
        { 2, 2, 4, 9, 9, false },   // self-attention, partial last blocks
        { 2, 2, 8, 9, 9, false },
        { 2, 2, 4, 7, 13, false },  // cross-attention
        { 2, 2, 8, 7, 13, false },
        { 2, 2, 4, 9, 9, true },    // causal
        { 2, 2, 8, 9, 9, true },
    };

    [Theory]
    [MemberData(nameof(TinyShapes))]
    public void Tiny_tiles_match_the_portable_kernels(int n, int h, int d, int lq, int lk, bool causal)
    {
        var tile = Tiny(d);
        CompareWithPortable(new AttentionDims(n, h, lq, lk, d, d, 1f / MathF.Sqrt(d), causal ? 1 : 0), tile, tile, tile);
    }

    public static TheoryData<int, int, bool> CudaShapes => new()
    {
        // d, lk, causal: 9 queries, the CUDA tiles of SD's head dims, 77 keys as in cross-attention over the prompt
        { 40, 77, false },
        { 80, 77, false },
        { 160, 77, false },
        { 40, 9, true },
    };

    [Theory]
    [MemberData(nameof(CudaShapes))]
    public void Cuda_tiles_match_the_portable_kernels(int d, int lk, bool causal)
    {
        var tiles = FlashTiles.ForHeadDim(d)!;
        CompareWithPortable(new AttentionDims(1, 2, 9, lk, d, d, 1f / MathF.Sqrt(d), causal ? 1 : 0),
            tiles.Forward, tiles.BackwardQuery, tiles.BackwardKeyValue);
    }

    [Fact]
    public void Large_logits_stay_finite_and_match()
    {
        // Logits of about ±100: exp would overflow without the running max, and the rescaling is exercised. Each logit
        // carries fp32 rounding of ~1e-7·|s| ≈ 1e-5 that differs between the two kernels' summation orders, and the
        // gradients inherit it (dS = P(dP − D) with P near one-hot), so they get 1e-4; the forward keeps 1e-5.
        const int d = 4;
        var dims = new AttentionDims(1, 2, 9, 13, d, d, 25f, 0);
        var tile = Tiny(d);
        CompareWithPortable(dims, tile, tile, tile, gradientTolerance: 1e-4);
    }

    [Fact]
    public void Backward_is_bit_reproducible()
    {
        var dims = new AttentionDims(1, 2, 7, 13, 4, 4, 0.5f, 0);
        var tile = Tiny(4);
        using var t = Operands.Create(device, dims, seed: 40);
        var first = RunFlash(t, dims, tile, tile, tile);
        var second = RunFlash(t, dims, tile, tile, tile);
        for (int i = 0; i < first.Length; i++) Assert.Equal(first[i], second[i]);
    }

    [Fact]
    public void The_dispatcher_picks_the_portable_kernels_on_the_cpu()
    {
        var dims = new AttentionDims(1, 2, 9, 13, 40, 40, 0.15f, 0);
        using var t = Operands.Create(device, dims, seed: 50);
        var forward = Attention.ForwardDispatcher.Select(device, new AttentionForwardArgs(t.Q, t.K, t.V, t.O, t.Lse, dims));
        var backward = Attention.BackwardDispatcher.Select(device,
            new AttentionBackwardArgs(t.Q, t.K, t.V, t.O, t.Lse, t.DO, t.DQ, t.DK, t.DV, dims));

        Assert.Equal(KernelTier.Portable, forward.Tier);
        Assert.Equal(KernelTier.Portable, backward.Tier);
        Assert.False(FlashAttention.Supports(device, t.Q, dims));
    }

    [Fact]
    public void Every_cuda_tile_is_a_registered_specialization_that_fits_48_kb_and_whole_warps()
    {
        var registered = KernelRegistry.All.Select(k => k.Name).ToHashSet();
        foreach (int d in FlashTiles.HeadDims)
        {
            var tiles = FlashTiles.ForHeadDim(d)!;
            foreach (var (pass, tile, kernel) in new[]
                     {
                         (FlashPass.Forward, tiles.Forward, "ForwardKernel"),
                         (FlashPass.BackwardQuery, tiles.BackwardQuery, "BackwardQueryKernel"),
                         (FlashPass.BackwardKeyValue, tiles.BackwardKeyValue, "BackwardKeyValueKernel"),
                     })
            {
                log.WriteLine($"{pass} {tile}: {tile.Threads} threads, {tile.SharedBytes(pass)} B shared");
                Assert.Equal(d, tile.HeadDim);
                Assert.Null(tile.Problem(pass, warpSize: 32, maxThreadsPerGroup: 1024, maxSharedBytes: 48 * 1024, wholeWarps: true));
                var name = $"FlashAttention.{kernel}_{tile.HeadDim}_{tile.OwnedRows}_{tile.StreamedRows}_{tile.RowsPerThread}_{tile.TeamSize}";
                Assert.Contains(name, registered);
            }
        }
        foreach (int d in new[] { 4, 8 })
            foreach (var kernel in new[] { "ForwardKernel", "BackwardQueryKernel", "BackwardKeyValueKernel" })
                Assert.Contains($"FlashAttention.{kernel}_{d}_4_6_2_2", registered);
    }

    [Theory]
    [InlineData("sm_80")]
    [InlineData("sm_90")]
    public void Every_specialization_keeps_its_registers_out_of_local_memory(string arch)
    {
        // ILGPU 1.5.3 unrolls no loop, so one non-constant register index would silently move a thread's tile to
        // local memory: ptxas must report no spills and no stack frame, and exactly the shared memory of the tile.
        var entries = KernelRegistry.All.Where(k => k.Name.StartsWith("FlashAttention.", StringComparison.Ordinal)).ToList();
        var directory = Directory.CreateTempSubdirectory("idf-flash-ptx-");
        try
        {
            var result = PtxValidation.Run(PtxArchitecture.Parse(arch), PtxasLocator.Locate(), directory.FullName, entries);
            log.WriteLine(PtxReport.Format(result));
            Assert.Equal(15, result.Kernels.Count);
            foreach (var (entry, kernel) in entries.Zip(result.Kernels))
            {
                Assert.True(kernel.Succeeded, $"{kernel.Name}: {kernel.Failure}");
                var used = kernel.Resources!;
                var v = entry.SpecializedValues.Cast<int>().ToArray();
                var pass = entry.Method.Name switch
                {
                    nameof(FlashAttention.ForwardKernel) => FlashPass.Forward,
                    nameof(FlashAttention.BackwardQueryKernel) => FlashPass.BackwardQuery,
                    _ => FlashPass.BackwardKeyValue,
                };
                Assert.True(used is { SpillStoreBytes: 0, SpillLoadBytes: 0, StackFrameBytes: 0 }, $"{kernel.Name}: {used}");
                Assert.Equal(new FlashTile(v[0], v[1], v[2], v[3], v[4]).SharedBytes(pass), used.SharedMemoryBytes);
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Tiles_that_do_not_fit_are_refused_before_launch()
    {
        var dims = new AttentionDims(1, 1, 5, 5, 8, 8, 0.3f, 0);
        using var t = Operands.Create(device, dims, seed: 60);
        var args = new AttentionForwardArgs(t.Q, t.K, t.V, t.O, t.Lse, dims);
        Assert.Contains("head dim", Assert.Throws<ArgumentException>(() => FlashAttention.Forward(device, args, Tiny(4))).Message);
        Assert.Contains("team of 3", Assert.Throws<ArgumentException>(
            () => FlashAttention.Forward(device, args, new FlashTile(8, 4, 6, 2, 3))).Message);
        Assert.Contains("exceed", Assert.Throws<ArgumentException>(
            () => FlashAttention.Forward(device, args, new FlashTile(8, 4, 18, 2, 2))).Message);
    }

    /// <summary>Runs the portable and the tuned forward and backward on the same random inputs and compares all outputs.</summary>
    private void CompareWithPortable(AttentionDims dims, FlashTile forward, FlashTile query, FlashTile keyValue,
        double gradientTolerance = Tolerance)
    {
        using var t = Operands.Create(device, dims, seed: dims.HeadDim + 7 * dims.KeyLength);
        var portable = RunPortable(t, dims);
        var flash = RunFlash(t, dims, forward, query, keyValue);

        string[] names = ["output", "logsumexp", "dQ", "dK", "dV"];
        for (int i = 0; i < names.Length; i++)
        {
            double error = Reference.RelativeError(flash[i], portable[i]), bound = i < 2 ? Tolerance : gradientTolerance;
            log.WriteLine($"{names[i]} relative error {error:E2}");
            Assert.All(flash[i], x => Assert.True(float.IsFinite(x)));
            Assert.True(error <= bound, $"{names[i]} relative error {error:E2} > {bound:E0}");
        }
    }

    private static float[][] RunPortable(Operands t, AttentionDims d)
    {
        float? scale = d.Scale;
        Attention.Forward(t.Q, t.K, t.V, t.O, t.Lse, d.Heads, scale, d.Causal == 1);
        Attention.Backward(t.Q, t.K, t.V, t.O, t.Lse, t.DO, t.DQ, t.DK, t.DV, d.Heads, scale, d.Causal == 1);
        return t.Outputs();
    }

    private float[][] RunFlash(Operands t, AttentionDims d, FlashTile forward, FlashTile query, FlashTile keyValue)
    {
        FlashAttention.Forward(device, new AttentionForwardArgs(t.Q, t.K, t.V, t.O, t.Lse, d), forward);
        FlashAttention.Backward(device, new AttentionBackwardArgs(t.Q, t.K, t.V, t.O, t.Lse, t.DO, t.DQ, t.DK, t.DV, d),
            query, keyValue);
        return t.Outputs();
    }

    /// <summary>Random q, k, v, dO and the output tensors of one attention problem.</summary>
    private sealed class Operands : IDisposable
    {
        public required Tensor Q, K, V, DO, O, Lse, DQ, DK, DV;

        public static Operands Create(Device device, AttentionDims d, int seed)
        {
            int hd = d.Heads * d.HeadDim;
            return new Operands
            {
                Q = Tensor.FromHost(device, Reference.RandomNormal(d.Batch * d.QueryLength * hd, seed), d.Batch, d.QueryLength, hd),
                K = Tensor.FromHost(device, Reference.RandomNormal(d.Batch * d.KeyLength * hd, seed + 1), d.Batch, d.KeyLength, hd),
                V = Tensor.FromHost(device, Reference.RandomNormal(d.Batch * d.KeyLength * hd, seed + 2), d.Batch, d.KeyLength, hd),
                DO = Tensor.FromHost(device, Reference.RandomNormal(d.Batch * d.QueryLength * hd, seed + 3), d.Batch, d.QueryLength, hd),
                O = Tensor.Empty(device, DType.F32, d.Batch, d.QueryLength, hd),
                Lse = Tensor.Empty(device, DType.F32, d.Batch, d.Heads, d.QueryLength),
                DQ = Tensor.Empty(device, DType.F32, d.Batch, d.QueryLength, hd),
                DK = Tensor.Empty(device, DType.F32, d.Batch, d.KeyLength, hd),
                DV = Tensor.Empty(device, DType.F32, d.Batch, d.KeyLength, hd),
            };
        }

        /// <summary>Output, logsumexp, dQ, dK, dV on the host.</summary>
        public float[][] Outputs() => [O.ToFloatArray(), Lse.ToFloatArray(), DQ.ToFloatArray(), DK.ToFloatArray(), DV.ToFloatArray()];

        public void Dispose()
        {
            foreach (var t in new[] { Q, K, V, DO, O, Lse, DQ, DK, DV }) t.Dispose();
        }
    }
}
