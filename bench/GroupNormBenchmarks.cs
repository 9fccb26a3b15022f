using BenchmarkDotNet.Attributes;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Bench;

/// <summary>
/// Group norm (32 groups, eps 1e-6 as in SD's resnets) forward, forward with fused SiLU, and backward on
/// [2, 64, 64, 320] (an SD1.5 UNet block at 512²); in short mode [1, 8, 8, 64]. Memory-bound, so only bytes are
/// counted: the op's minimal traffic (forward: x read, y written; backward: dy and x read, dx written; γ, β, the
/// statistics and dγ, dβ included).
/// </summary>
public class GroupNormBenchmarks : DeviceBenchmark
{
    private const int Groups = 32;
    private const float Eps = 1e-6f;

    private Tensor x = null!, gamma = null!, beta = null!, dy = null!;
    private NormOutput saved = null!;

    protected override void Setup()
    {
        int[] dims = Pick<int[]>([2, 64, 64, 320], [1, 8, 8, 64]);
        int c = dims[^1];
        x = Random(dims);
        dy = Random(dims);
        gamma = Random(c);
        beta = Random(c);
        saved = Own(GroupNorm.Forward(x, gamma, beta, Groups, Eps));

        string shape = $"[{string.Join(", ", dims)}] / {Groups} groups";
        double elements = F32Bytes(dims.Aggregate(1.0, (a, b) => a * b)), affine = F32Bytes(2 * c);
        double stats = F32Bytes(2.0 * dims[0] * Groups);
        Record(nameof(Forward), shape, bytes: 2 * elements + affine + stats);
        Record(nameof(ForwardSilu), shape, bytes: 2 * elements + affine + stats);
        Record(nameof(Backward), shape, bytes: 3 * elements + 2 * affine + stats);
    }

    [Benchmark]
    public void Forward()
    {
        using var result = GroupNorm.Forward(x, gamma, beta, Groups, Eps);
        Synchronize();
    }

    [Benchmark]
    public void ForwardSilu()
    {
        using var result = GroupNorm.Forward(x, gamma, beta, Groups, Eps, silu: true);
        Synchronize();
    }

    [Benchmark]
    public void Backward()
    {
        using var result = GroupNorm.Backward(dy, x, gamma, beta, saved.Mean, saved.Rstd, Groups);
        Synchronize();
    }
}
