using BenchmarkDotNet.Attributes;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Bench;

/// <summary>
/// The GEMM of a Linear layer over activations, C [batch, M, N] = A [batch, M, K] · Wᵀ with W [N, K] shared: on a
/// GPU at an SD1.5-like shape (2 × 4096 tokens × 320 → 320, the 64×64 level's projections), on the CPU accelerator
/// at a small shape so the run ends quickly. Each invocation waits for the device, so the time is the kernel's.
/// </summary>
[Config(typeof(RooflineConfig))]
public class GemmBenchmarks
{
    private Device device = null!;
    private Tensor a = null!, weightF32 = null!, weightF16 = null!, c = null!;

    [GlobalSetup]
    public void Setup()
    {
        device = Device.Open();
        var (batch, m, k, n) = device.IsCpu ? (2, 64, 32, 32) : (2, 4096, 320, 320);
        var weights = Random(n * k, 2);
        a = Tensor.FromHost(device, Random(batch * m * k, 1), batch, m, k);
        weightF32 = Tensor.FromHost(device, weights, n, k);
        weightF16 = Tensor.FromHost(device, weights.Select(v => (System.Half)v).ToArray(), n, k);
        c = Tensor.Empty(device, DType.F32, batch, m, n);
        Roofline.Record<GemmBenchmarks>(device, 2.0 * batch * m * n * k, $"{batch}x{m}x{k} · {n}x{k}ᵀ");
        F32Weights();  // compile both kernels outside the measurement
        F16Weights();
    }

    /// <summary>F32 weights.</summary>
    [Benchmark(Baseline = true)]
    public void F32Weights()
    {
        Gemm.MatMul(a, weightF32, c, transB: true);
        device.Synchronize();
    }

    /// <summary>F16 weights widened in the kernel's loads.</summary>
    [Benchmark]
    public void F16Weights()
    {
        Gemm.MatMul(a, weightF16, c, transB: true);
        device.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        a.Dispose();
        weightF32.Dispose();
        weightF16.Dispose();
        c.Dispose();
        device.Dispose();
    }

    private static float[] Random(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }
}
