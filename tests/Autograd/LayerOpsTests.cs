using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Autograd;

/// <summary>Gradients of Linear, MatMul, Conv2d, the norms, softmax and attention against finite differences.</summary>
public class LayerOpsTests(ITestOutputHelper output)
{
    private readonly GradientCheck check = new(output);

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void Linear(bool withBias, bool weightTrains) =>
        check.Run($"Linear bias={withBias} weightTrains={weightTrains}",
            v => Ops.Linear(v[0], v[1], withBias ? v[2] : null),
            h => HostOps.Linear(h[0], h[1], withBias ? h[2] : null, 4),
            new GraphInput(1, [2, 3, 5]), new GraphInput(2, [4, 5], weightTrains), new GraphInput(3, [4], withBias));

    [Fact]
    public void Linear_with_a_frozen_f16_weight_and_an_f32_bias() =>
        check.Run("Linear f16 weight",
            v => Ops.Linear(v[0], v[1], v[2]),
            h => HostOps.Linear(h[0], h[1], h[2], 3),
            new GraphInput(4, [5, 6]), new GraphInput(5, [3, 6], Trains: false, Half: true), new GraphInput(6, [3]));

    [Fact]
    public void Trainable_f16_weights_are_refused()
    {
        using var x = new GraphInput(7, [2, 4]).ToVar(Support.Devices.Portable);
        using var w = new GraphInput(8, [3, 4], Half: true).ToVar(Support.Devices.Portable);
        var e = Assert.Throws<ArgumentException>(() => Ops.Linear(x, w));
        Assert.Contains("F16", e.Message);
    }

    public static TheoryData<int[], int[], bool, bool> MatMulCases() => new()
    {
        { [2, 3, 4], [2, 4, 5], false, false },
        { [2, 4, 3], [2, 5, 4], true, true },
        { [2, 3, 4], [5, 4], false, true },    // shared B (a weight)
        { [4, 3], [2, 4, 5], true, false },    // shared A
        { [1, 3, 4], [3, 4, 5], false, false },  // a batch of one is shared
        { [3, 4], [4, 5], false, false },
    };

    [Theory]
    [MemberData(nameof(MatMulCases))]
    public void MatMul(int[] aShape, int[] bShape, bool transA, bool transB) =>
        check.Run($"MatMul {string.Join('x', aShape)}{(transA ? "ᵀ" : "")} · {string.Join('x', bShape)}{(transB ? "ᵀ" : "")}",
            v => Ops.MatMul(v[0], v[1], transA, transB, 0.5f),
            h => HostOps.MatMul(h[0], aShape, transA, h[1], bShape, transB, 0.5),
            new GraphInput(10, aShape), new GraphInput(11, bShape));

    public static TheoryData<int[], int[], Conv2dParams> ConvCases() => new()
    {
        { [2, 4, 5, 3], [4, 3, 3, 3], Conv2dParams.Symmetric(1, 1) },
        { [1, 5, 6, 2], [3, 3, 3, 2], new Conv2dParams(2, 2, 0, 1, 0, 1) },   // the VAE encoder's downsample
    };

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv2d(int[] xShape, int[] wShape, Conv2dParams p) =>
        check.Run($"Conv2d {string.Join('x', xShape)} {p}",
            v => Ops.Conv2d(v[0], v[1], v[2], p),
            h => HostOps.Conv2d(h[0], xShape, h[1], wShape, h[2], p),
            new GraphInput(20, xShape), new GraphInput(21, wShape), new GraphInput(22, [wShape[0]]));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GroupNorm(bool silu) =>
        check.Run($"GroupNorm silu={silu}",
            v => Ops.GroupNorm(v[0], v[1], v[2], 2, 1e-5f, silu),
            h => HostOps.GroupNorm(h[0], 2, h[1], h[2], 2, 1e-5f, silu),
            new GraphInput(30, [2, 3, 2, 4]), new GraphInput(31, [4]), new GraphInput(32, [4]));

    [Fact]
    public void LayerNorm() =>
        check.Run("LayerNorm",
            v => Ops.LayerNorm(v[0], v[1], v[2], 1e-5f),
            h => HostOps.GroupNorm(h[0], 6, h[1], h[2], 1, 1e-5f, false),
            new GraphInput(33, [2, 3, 5]), new GraphInput(34, [5]), new GraphInput(35, [5]));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Softmax(bool causal) =>
        check.Run($"Softmax causal={causal}",
            v => Ops.Softmax(v[0], 0.7f, causal),
            h => HostOps.Softmax(h[0], 4, 0.7f, causal),
            new GraphInput(40, [2, 4, 4]));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Attention(bool causal)
    {
        int lk = causal ? 3 : 5;
        check.Run($"Attention causal={causal}",
            v => Ops.Attention(v[0], v[1], v[2], 2, causal: causal),
            h => HostOps.Attention(h[0], h[1], h[2], 2, 3, lk, 2, 1 / Math.Sqrt(2), causal),
            new GraphInput(50, [2, 3, 4]), new GraphInput(51, [2, lk, 4]), new GraphInput(52, [2, lk, 6]));
    }
}
