using BenchmarkDotNet.Attributes;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Bench;

/// <summary>
/// Multi-head self-attention at SD1.5's first UNet level at 512², batch 2 (CFG), 8 heads × 4096 tokens × head dim
/// 40; in short mode 1 × 2 heads × 64 tokens × 40. FLOPs count 4·N·H·L²·D for the forward (the two matmuls) and 2.5×
/// that for the backward (five matmuls, FlashAttention-2's convention; the recomputation is not counted). Bytes:
/// forward reads q, k, v and writes the output and logsumexp; backward also reads those two and dO, and writes dq,
/// dk, dv.
/// </summary>
public class AttentionBenchmarks : DeviceBenchmark
{
    private Tensor q = null!, k = null!, v = null!, output = null!, logSumExp = null!;
    private Tensor outputGrad = null!, qGrad = null!, kGrad = null!, vGrad = null!;
    private int heads;

    protected override void Setup()
    {
        var (n, h, l, d) = Pick((2, 8, 4096, 40), (1, 2, 64, 40));
        heads = h;
        q = Random(n, l, h * d);
        k = Random(n, l, h * d);
        v = Random(n, l, h * d);
        outputGrad = Random(n, l, h * d);
        output = Empty(n, l, h * d);
        logSumExp = Empty(n, h, l);
        qGrad = Empty(n, l, h * d);
        kGrad = Empty(n, l, h * d);
        vGrad = Empty(n, l, h * d);
        Attention.Forward(q, k, v, output, logSumExp, heads);   // the backward's saved output and logsumexp

        string shape = $"{n}x{h} heads x {l} x {d}";
        double forwardFlops = 4.0 * n * h * l * l * d;
        double tensor = F32Bytes((double)n * l * h * d), lse = F32Bytes((double)n * h * l);
        Record(nameof(Forward), shape, forwardFlops, 4 * tensor + lse);
        Record(nameof(Backward), shape, 2.5 * forwardFlops, 8 * tensor + lse);
    }

    [Benchmark(Description = "attention forward (self)")]
    public void Forward()
    {
        Attention.Forward(q, k, v, output, logSumExp, heads);
        Synchronize();
    }

    [Benchmark(Description = "attention backward (self)")]
    public void Backward()
    {
        Attention.Backward(q, k, v, output, logSumExp, outputGrad, qGrad, kGrad, vGrad, heads);
        Synchronize();
    }
}
