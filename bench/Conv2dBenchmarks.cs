using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Bench;

/// <summary>
/// A 3×3, stride-1, padding-1 conv at the UNet's first-block size (batch 2, 64×64×320 → 320) on the default device
/// (<see cref="Device.Open"/>): forward, input gradient and weight gradient, each timed with a synchronize. On the
/// CPU accelerator a tiny 8×8×8 → 8 shape keeps the run short. FLOPs = 2·N·Hout·Wout·Cout·Cin·kh·kw per call.
/// </summary>
[Config(typeof(GflopsConfig))]
public class Conv2dBenchmarks
{
    private static readonly Conv2dParams Same = Conv2dParams.Symmetric(1, 1);

    private Device device = null!;
    private Tensor x = null!, weight = null!, bias = null!, y = null!, dy = null!, dx = null!, dw = null!;

    [GlobalSetup]
    public void Setup()
    {
        device = Device.Open();
        (int n, int hw, int c) = device.IsCpu ? (2, 8, 8) : (2, 64, 320);
        double flops = 2.0 * n * hw * hw * c * c * 3 * 3;
        foreach (var method in new[] { nameof(Forward), nameof(BackwardInput), nameof(BackwardWeight) })
            GflopsColumn.Record<Conv2dBenchmarks>(method, flops);
        x = Random(n * hw * hw * c, 1, n, hw, hw, c);
        weight = Random(c * 3 * 3 * c, 2, c, 3, 3, c);
        bias = Random(c, 3, c);
        y = Tensor.Empty(device, DType.F32, n, hw, hw, c);
        dy = Random(n * hw * hw * c, 4, n, hw, hw, c);
        dx = Tensor.Empty(device, DType.F32, n, hw, hw, c);
        dw = Tensor.Empty(device, DType.F32, c, 3, 3, c);
        Console.WriteLine($"// {device}: conv 3×3 [{n}, {hw}, {hw}, {c}] → {c}, {flops / 1e9:F3} GFLOP per call");
    }

    [Benchmark(Description = "conv3x3 forward")]
    public void Forward()
    {
        Conv2d.Forward(x, weight, bias, Same, y);
        device.Synchronize();
    }

    [Benchmark(Description = "conv3x3 dX")]
    public void BackwardInput()
    {
        Conv2d.BackwardInput(dy, weight, Same, dx);
        device.Synchronize();
    }

    [Benchmark(Description = "conv3x3 dW")]
    public void BackwardWeight()
    {
        Conv2d.BackwardWeight(x, dy, Same, dw, accumulate: false);
        device.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// peak device memory {device.Memory.PeakReservedBytes / (1 << 20)} MiB");
        foreach (var t in new[] { x, weight, bias, y, dy, dx, dw }) t.Dispose();
        device.Dispose();
    }

    private Tensor Random(int count, int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(rng.NextDouble() * 2 - 1);
        return Tensor.FromHost(device, values, shape);
    }
}
