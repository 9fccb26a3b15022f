using BenchmarkDotNet.Attributes;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Bench;

/// <summary>
/// A 3×3, stride-1, padding-1 conv at the UNet's first-block size (batch 2, 64×64×320 → 320; in short mode
/// 2 × 8×8×8 → 8): forward (F32 weights, F16 weights, and with a resnet block's residual added in the same pass),
/// input gradient and weight gradient. FLOPs = 2·N·H·W·Cout·Cin·3·3 per call; bytes = the call's operands read once
/// and its result written once.
/// </summary>
public class Conv2dBenchmarks : DeviceBenchmark
{
    private static readonly Conv2dParams Same = Conv2dParams.Symmetric(1, 1);

    private Tensor x = null!, weight = null!, bias = null!, weightF16 = null!, biasF16 = null!, y = null!, dy = null!, dx = null!, dw = null!;

    protected override void Setup()
    {
        var (n, hw, c) = Pick((2, 64, 320), (2, 8, 8));
        x = Random(n, hw, hw, c);
        weight = Random(c, 3, 3, c);
        bias = Random(c);
        weightF16 = RandomF16(c, 3, 3, c);
        biasF16 = RandomF16(c);
        dy = Random(n, hw, hw, c);
        y = Empty(n, hw, hw, c);
        dx = Empty(n, hw, hw, c);
        dw = Empty(c, 3, 3, c);
        string shape = $"[{n}, {hw}, {hw}, {c}] 3x3 -> {c}";
        double flops = 2.0 * n * hw * hw * c * c * 3 * 3;
        double activation = F32Bytes((double)n * hw * hw * c), weights = F32Bytes(c * 3 * 3 * c);
        Record(nameof(Forward), shape, flops, 2 * activation + weights + F32Bytes(c));
        Record(nameof(ForwardF16Weights), shape, flops, 2 * activation + weights / 2 + 2.0 * c);
        Record(nameof(ForwardWithResidual), shape, flops, 3 * activation + weights + F32Bytes(c));
        Record(nameof(BackwardInput), shape, flops, 2 * activation + weights);
        Record(nameof(BackwardWeight), shape, flops, 2 * activation + weights);
    }

    [Benchmark(Description = "conv3x3 forward")]
    public void Forward()
    {
        Conv2d.Forward(x, weight, bias, Same, y);
        Synchronize();
    }

    [Benchmark(Description = "conv3x3 forward, F16 weights")]
    public void ForwardF16Weights()
    {
        Conv2d.Forward(x, weightF16, biasF16, Same, y);
        Synchronize();
    }

    [Benchmark(Description = "conv3x3 forward + residual")]
    public void ForwardWithResidual()
    {
        Conv2d.Forward(x, weight, bias, Same, y, residual: dy);
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
