using BenchmarkDotNet.Attributes;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Bench;

/// <summary>
/// Multi-head self-attention on the default device (<see cref="Device.Open"/>): SD1.5's first UNet level at 512²,
/// batch 2 (CFG), 8 heads × 4096 tokens × head dim 40. On the CPU accelerator a tiny shape (1 × 2 heads × 64
/// tokens) keeps the run short. GFLOP/s counts 4·N·H·Lq·Lk·D for the forward (the two matmuls) and 2.5× that for
/// the backward (five matmuls, FlashAttention-2's convention; the recomputation is not counted).
/// </summary>
[Config(typeof(GflopsConfig))]
public class AttentionBenchmarks
{
    private Device device = null!;
    private Tensor q = null!, k = null!, v = null!, output = null!, logSumExp = null!;
    private Tensor outputGrad = null!, qGrad = null!, kGrad = null!, vGrad = null!;
    private int heads;

    [GlobalSetup]
    public void Setup()
    {
        device = Device.Open();
        var (n, h, l, d) = device.IsCpu ? (1, 2, 64, 40) : (2, 8, 4096, 40);
        heads = h;
        q = Random(1, n, l, h * d);
        k = Random(2, n, l, h * d);
        v = Random(3, n, l, h * d);
        outputGrad = Random(4, n, l, h * d);
        output = Tensor.Empty(device, DType.F32, n, l, h * d);
        logSumExp = Tensor.Empty(device, DType.F32, n, h, l);
        qGrad = Tensor.Empty(device, DType.F32, n, l, h * d);
        kGrad = Tensor.Empty(device, DType.F32, n, l, h * d);
        vGrad = Tensor.Empty(device, DType.F32, n, l, h * d);

        double forwardFlops = 4.0 * n * h * l * l * d;
        GflopsColumn.Record<AttentionBenchmarks>(nameof(Forward), forwardFlops);
        GflopsColumn.Record<AttentionBenchmarks>(nameof(Backward), 2.5 * forwardFlops);
        Console.WriteLine($"// attention on {device}: N={n} H={h} L={l} D={d}");
        Forward();
        Backward();
    }

    [Benchmark(Description = "attention forward (self)")]
    public void Forward()
    {
        Attention.Forward(q, k, v, output, logSumExp, heads);
        device.Synchronize();
    }

    [Benchmark(Description = "attention backward (self)")]
    public void Backward()
    {
        Attention.Backward(q, k, v, output, logSumExp, outputGrad, qGrad, kGrad, vGrad, heads);
        device.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// peak device memory: {device.Memory.PeakReservedBytes / (1024.0 * 1024.0):F1} MiB reserved");
        foreach (var t in new[] { q, k, v, output, logSumExp, outputGrad, qGrad, kGrad, vGrad }) t.Dispose();
        device.Dispose();
    }

    private Tensor Random(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var data = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
        return Tensor.FromHost(device, data, shape);
    }
}
