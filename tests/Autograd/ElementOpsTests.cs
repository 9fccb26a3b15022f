using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Autograd;

/// <summary>Gradients of the element-wise, broadcast, reduction, loss, shape and embedding ops against finite differences.</summary>
public class ElementOpsTests(ITestOutputHelper output)
{
    private readonly GradientCheck check = new(output);

    [Theory]
    [InlineData(ActivationKind.Gelu)]
    [InlineData(ActivationKind.QuickGelu)]
    [InlineData(ActivationKind.Silu)]
    public void Activation(ActivationKind kind) =>
        check.Run($"{kind}", v => Ops.Activation(v[0], kind), h => [.. h[0].Select(x => HostOps.Activation(kind, x))], new GraphInput(60, [3, 7]));

    [Fact]
    public void Shorthands_match_their_kinds()
    {
        using var x = new GraphInput(61, [5]).ToVar(Devices.Portable);
        foreach (var (shorthand, kind) in new (Func<Var, Var>, ActivationKind)[]
                 { (Ops.Gelu, ActivationKind.Gelu), (Ops.QuickGelu, ActivationKind.QuickGelu), (Ops.Silu, ActivationKind.Silu) })
        {
            using var a = shorthand(x);
            using var b = Ops.Activation(x, kind);
            Assert.Equal(b.Value.ToFloatArray(), a.Value.ToFloatArray());
        }
    }

    [Fact]
    public void Geglu() =>
        check.Run("Geglu", v => Ops.Geglu(v[0]), h => HostOps.Geglu(h[0], 3), new GraphInput(62, [2, 2, 6]));

    [Fact]
    public void Mul_including_a_repeated_operand()
    {
        check.Run("Mul", v => Ops.Mul(v[0], v[1]), h => [.. h[0].Select((a, i) => a * h[1][i])],
            new GraphInput(63, [3, 5]), new GraphInput(64, [3, 5]));
        check.Run("Mul x·x", v => Ops.Mul(v[0], v[0]), h => [.. h[0].Select(a => a * a)], new GraphInput(65, [7]));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Broadcast(bool multiply, bool perSample)
    {
        int[] operandShape = perSample ? [2, 4] : [4];
        Func<Var, Var, Var> op = (multiply, perSample) switch
        {
            (false, false) => Ops.AddLastDim,
            (true, false) => Ops.MulLastDim,
            (false, true) => Ops.AddPerSample,
            (true, true) => Ops.MulPerSample,
        };
        check.Run($"Broadcast multiply={multiply} perSample={perSample}",
            v => op(v[0], v[1]), h => HostOps.Broadcast(h[0], h[1], 4, perSample, multiply),
            new GraphInput(66, [2, 3, 4]), new GraphInput(67, operandShape));
        // A frozen operand: only x's gradient (for a multiply, without keeping x).
        check.Run($"Broadcast multiply={multiply} perSample={perSample}, frozen operand",
            v => op(v[0], v[1]), h => HostOps.Broadcast(h[0], h[1], 4, perSample, multiply),
            new GraphInput(68, [2, 3, 4]), new GraphInput(69, operandShape, Trains: false));
    }

    [Fact]
    public void Sum_and_mean()
    {
        check.Run("Sum", v => Ops.Sum(v[0]), h => [h[0].Sum()], new GraphInput(70, [3, 5]));
        check.Run("Mean", v => Ops.Mean(v[0]), h => [h[0].Average()], new GraphInput(71, [3, 5]));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Mse(bool weighted)
    {
        float[] weights = [0.5f, 2f];
        using var w = Tensor.FromHost(Devices.Portable, weights, 2);
        check.Run($"Mse weighted={weighted}",
            v => Ops.Mse(v[0], v[1], weighted ? w : null),
            h => [HostOps.Mse(h[0], h[1], weighted ? [.. weights.Select(x => (double)x)] : null, 2)],
            new GraphInput(72, [2, 3, 2]), new GraphInput(73, [2, 3, 2]));
    }

    [Theory]
    [InlineData(6, 8)]
    [InlineData(5, 7)]
    public void UpsampleNearest(int height, int width) =>
        check.Run($"UpsampleNearest 3x4 → {height}x{width}",
            v => Ops.UpsampleNearest(v[0], height, width), h => HostOps.Upsample(h[0], 2, 3, 4, 2, height, width),
            new GraphInput(74, [2, 3, 4, 2]));

    [Fact]
    public void Concat_and_slice()
    {
        check.Run("ConcatLastAxis", v => Ops.ConcatLastAxis(v[0], v[1]), h => HostOps.Concat(h[0], h[1], 3, 2),
            new GraphInput(75, [2, 2, 3]), new GraphInput(76, [2, 2, 2]));
        check.Run("SliceLastAxis", v => Ops.SliceLastAxis(v[0], 2, 3), h => HostOps.Slice(h[0], 6, 2, 3), new GraphInput(77, [4, 6]));
    }

    [Theory]
    [InlineData(new[] { 2, 3, 4 }, new[] { 0, 2, 1 })]
    [InlineData(new[] { 2, 3, 4, 5 }, new[] { 0, 2, 1, 3 })]   // a head split [N, L, H, D] → [N, H, L, D]
    [InlineData(new[] { 2, 3, 4, 5 }, new[] { 3, 0, 2, 1 })]
    public void Permute(int[] shape, int[] axes) =>
        check.Run($"Permute {string.Join('x', shape)} by ({string.Join(',', axes)})",
            v => Ops.Permute(v[0], axes), h => HostOps.Permute(h[0], shape, axes), new GraphInput(78, shape));

    [Fact]
    public void Reshape_shares_storage_and_reshapes_the_gradient()
    {
        // Reshape then a shape-sensitive op, so a wrongly shaped gradient would fail the check.
        check.Run("Reshape", v => { using var r = Ops.Reshape(v[0], 3, 4); return Ops.AddLastDim(r, v[1]); },
            h => HostOps.Broadcast(h[0], h[1], 4, false, false), new GraphInput(79, [2, 6]), new GraphInput(80, [4]));
    }

    [Fact]
    public void Embedding_scatter_adds_repeated_ids()
    {
        int[] ids = [3, 0, 3, 4, 1, 3];
        using var idTensor = Tensor.FromHost(Devices.Portable, ids, 2, 3);
        check.Run("Embedding", v => Ops.Embedding(v[0], idTensor), h => HostOps.Gather(h[0], 4, ids), new GraphInput(81, [6, 4]));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Embedding_with_extra_rows_trains_only_the_extra_rows(bool halfTable)
    {
        // Vocabulary 5 (frozen, never differentiated) + 2 extra rows: ids 5 and 6, repeated, beside ordinary ids.
        int[] ids = [5, 0, 6, 5, 4, 2];
        using var idTensor = Tensor.FromHost(Devices.Portable, ids, 3, 2);
        check.Run($"Embedding with extra rows ({(halfTable ? "F16" : "F32")} table)", v => Ops.Embedding(v[0], v[1], idTensor),
            h => HostOps.Gather([.. h[0], .. h[1]], 4, ids),
            new GraphInput(82, [5, 4], Trains: false, Half: halfTable), new GraphInput(83, [2, 4]));
    }

    [Fact]
    public void Embedding_with_extra_rows_refuses_a_trainable_table()
    {
        using var table = Var.Parameter(Tensor.FromHost(Devices.Portable, Reference.RandomNormal(8, 84), 2, 4));
        using var extra = Var.Parameter(Tensor.FromHost(Devices.Portable, Reference.RandomNormal(4, 85), 1, 4));
        using var ids = Tensor.FromHost(Devices.Portable, [2, 0], 2);
        Assert.Equal("table", Assert.Throws<ArgumentException>(() => Ops.Embedding(table, extra, ids)).ParamName);
    }
}
