using BenchmarkDotNet.Attributes;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Bench;

/// <summary>
/// The GEMM of a Linear layer over activations, C [batch, M, N] = A [batch, M, K] · Wᵀ with W [N, K] shared, at the
/// 64×64 level's projections (2 × 4096 tokens × 320 → 320); in short mode 2 × 64 × 32 → 32. FLOPs = 2·batch·M·N·K;
/// bytes = A and W read, C written.
/// </summary>
public class GemmBenchmarks : DeviceBenchmark
{
    private Tensor a = null!, weightF32 = null!, weightF16 = null!, c = null!;

    protected override void Setup()
    {
        var (batch, m, k, n) = Pick((2, 4096, 320, 320), (2, 64, 32, 32));
        a = Random(batch, m, k);
        weightF32 = Random(n, k);
        weightF16 = RandomF16(n, k);
        c = Empty(batch, m, n);
        string shape = $"{batch}x{m}x{k} * ({n}x{k})^T";
        double flops = 2.0 * batch * m * n * k, activations = F32Bytes((double)batch * m * (k + n));
        Record(nameof(F32Weights), shape, flops, activations + F32Bytes(n * k));
        Record(nameof(F16Weights), shape, flops, activations + 2.0 * n * k);
    }

    /// <summary>F32 weights.</summary>
    [Benchmark(Baseline = true)]
    public void F32Weights()
    {
        Gemm.MatMul(a, weightF32, c, transB: true);
        Synchronize();
    }

    /// <summary>F16 weights widened in the kernel's loads.</summary>
    [Benchmark]
    public void F16Weights()
    {
        Gemm.MatMul(a, weightF16, c, transB: true);
        Synchronize();
    }
}
