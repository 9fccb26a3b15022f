using BenchmarkDotNet.Attributes;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Bench;

/// <summary>
/// The GEGLU feed-forward's first half at the 64×64 level (2 × 4096 tokens × 320 → 2 × 1280, then hidden·GELU(gate)
/// → 1280; in short mode 128 × 32 → 2 × 64): the fused op <see cref="LinearGeglu"/> against <see cref="Linear"/>
/// followed by <see cref="Activation.Geglu"/>. FLOPs = 2·rows·2·Inner·C; bytes = x and W read, the output written
/// (the unfused pair also writes and reads the [rows, 2·Inner] projection).
/// </summary>
public class FeedForwardBenchmarks : DeviceBenchmark
{
    private Tensor x = null!, weight = null!, bias = null!, gated = null!;

    protected override void Setup()
    {
        var (rows, c, inner) = Pick((8192, 320, 1280), (128, 32, 64));
        x = Random(rows, c);
        weight = Random(2 * inner, c);
        bias = Random(2 * inner);
        gated = Empty(rows, inner);
        string shape = $"{rows}x{c} -> 2x{inner} -> {inner}";
        double flops = 2.0 * rows * 2 * inner * c, operands = F32Bytes((double)rows * (c + inner) + 2.0 * inner * (c + 1));
        Record(nameof(Fused), shape, flops, operands);
        Record(nameof(LinearThenGeglu), shape, flops, operands + 2 * F32Bytes(2.0 * rows * inner));
    }

    [Benchmark(Description = "proj + GEGLU fused")]
    public void Fused()
    {
        using var y = LinearGeglu.Forward(x, weight, bias);
        Synchronize();
    }

    [Benchmark(Baseline = true, Description = "proj then GEGLU")]
    public void LinearThenGeglu()
    {
        using var y = Linear.Forward(x, weight, bias);
        Activation.Geglu(y, gated);
        Synchronize();
    }
}
