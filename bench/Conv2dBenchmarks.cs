using BenchmarkDotNet.Attributes;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Bench;

/// <summary>
/// A 3×3, stride-1, padding-1 conv at the UNet's first-block size (batch 2, 64×64×320 → 320; in short mode
/// 2 × 8×8×8 → 8): forward, input gradient and weight gradient. FLOPs = 2·N·H·W·Cout·Cin·3·3 per call; bytes = the
/// call's operands read once and its result written once.
/// </summary>
public class Conv2dBenchmarks : DeviceBenchmark
{
    private static readonly Conv2dParams Same = Conv2dParams.Symmetric(1, 1);

    private Tensor x = null!, weight = null!, bias = null!, y = null!, dy = null!, dx = null!, dw = null!;

    protected override void Setup()
    {
        var (n, hw, c) = Pick((2, 64, 320), (2, 8, 8));
        x = Random(n, hw, hw, c);
        weight = Random(c, 3, 3, c);
        bias = Random(c);
        dy = Random(n, hw, hw, c);
        y = Empty(n, hw, hw, c);
        dx = Empty(n, hw, hw, c);
        dw = Empty(c, 3, 3, c);
        string shape = $"[{n}, {hw}, {hw}, {c}] 3x3 -> {c}";
        double flops = 2.0 * n * hw * hw * c * c * 3 * 3;
        double activation = F32Bytes((double)n * hw * hw * c), weights = F32Bytes(c * 3 * 3 * c);
        Record(nameof(Forward), shape, flops, 2 * activation + weights + F32Bytes(c));
        Record(nameof(BackwardInput), shape, flops, 2 * activation + weights);
        Record(nameof(BackwardWeight), shape, flops, 2 * activation + weights);
    }

    [Benchmark(Description = "conv3x3 forward")]
    public void Forward()
    {
        Conv2d.Forward(x, weight, bias, Same, y);
        Synchronize();
    }

    [Benchmark(Description = "conv3x3 dX")]
    public void BackwardInput()
    {
        Conv2d.BackwardInput(dy, weight, Same, dx);
        Synchronize();
    }

    [Benchmark(Description = "conv3x3 dW")]
    public void BackwardWeight()
    {
        Conv2d.BackwardWeight(x, dy, Same, dw, accumulate: false);
        Synchronize();
    }
}
