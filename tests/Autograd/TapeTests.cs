using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Autograd;

public class TapeTests
{
    private readonly Device device = Devices.Portable;

    private Var Param(int n, int seed, string name) => Var.Parameter(Tensor.FromHost(device, Reference.RandomNormal(n, seed), n), name);

    /// <summary>loss = Σ (2.5·(x + w) + (−0.75)·w): the float64 reference for the tests below.</summary>
    private static double[] LossReference(double[] x, double[] w) =>
        [x.Select((v, i) => 2.5 * (v + w[i]) - 0.75 * w[i]).Sum()];

    /// <summary>The block disposes its intermediates at once: backward keeps its own references to what it needs.</summary>
    private static Var Block(IReadOnlyList<Var> v)
    {
        using var sum = Ops.Add(v[0], v[1]);
        using var scaled = Ops.Scale(sum, 2.5f);
        using var other = Ops.Scale(v[1], -0.75f);
        return Ops.Add(scaled, other);
    }

    [Fact]
    public void Backward_matches_finite_differences_and_accumulates_across_passes()
    {
        using var x = Param(11, 1, "x");
        using var w = Param(11, 2, "w");
        var hx = x.Value.ToFloatArray().Select(v => (double)v).ToArray();
        var hw = w.Value.ToFloatArray().Select(v => (double)v).ToArray();
        var expectedW = FiniteDifference.Gradient(p => LossReference(hx, p), hw, [1.0]);
        var expectedX = FiniteDifference.Gradient(p => LossReference(p, hw), hx, [1.0]);

        for (int pass = 1; pass <= 2; pass++)
        {
            using var tape = Tape.Record();
            using var y = Block([x, w]);
            using var loss = Ops.Sum(y);
            tape.Backward(loss);
            // Bound: the ops are exact in f32 up to rounding of 2.5·(x+w); FD in float64 is exact for a linear loss.
            Assert.True(Reference.RelativeError(w.Grad!.ToFloatArray(), expectedW.Select(v => v * pass).ToArray()) <= 1e-6);
            Assert.True(Reference.RelativeError(x.Grad!.ToFloatArray(), expectedX.Select(v => v * pass).ToArray()) <= 1e-6);
        }
        w.ZeroGrad();
        Assert.Null(w.Grad);
    }

    [Fact]
    public void Checkpointed_and_plain_backward_agree()
    {
        using var x = Param(9, 3, "x");
        using var w = Param(9, 4, "w");
        using var hidden = Var.Parameter(Tensor.FromHost(device, Reference.RandomNormal(9, 5), 9), "h");

        float[] Run(bool checkpointed)
        {
            x.ZeroGrad(); w.ZeroGrad();
            using var tape = Tape.Record();
            using var pre = Ops.Scale(x, 1.5f);                         // an intermediate input to the block
            using var y = checkpointed ? Checkpoint.Run(v => Block([v[0], w]), pre) : Block([pre, w]);
            using var loss = Ops.Sum(y);
            tape.Backward(loss);
            return [.. x.Grad!.ToFloatArray(), .. w.Grad!.ToFloatArray()];
        }

        var plain = Run(false);
        var checkpointed = Run(true);
        Assert.Equal(plain, checkpointed);
    }

    [Fact]
    public void Frozen_weights_get_no_gradient_memory()
    {
        using var x = Param(1000, 6, "x");
        using var frozen = Var.Constant(Tensor.FromHost(device, Reference.RandomNormal(1000, 7), 1000), "frozen");
        using (var warm = Tape.Record())
        using (var y = Block([x, frozen]))
        using (var l = Ops.Sum(y)) warm.Backward(l);
        x.ZeroGrad();

        long before = device.Memory.LiveBytes;
        using (var tape = Tape.Record())
        using (var y = Block([x, frozen]))
        using (var loss = Ops.Sum(y))
            tape.Backward(loss);
        Assert.Null(frozen.Grad);
        Assert.NotNull(x.Grad);
        // Only x's gradient (1000 floats → one 4096-byte block) stays alive after backward.
        Assert.Equal(before + DeviceMemory.BucketSize(4000), device.Memory.LiveBytes);
    }

    [Fact]
    public void No_grad_scope_records_nothing()
    {
        using var x = Param(5, 8, "x");
        using var tape = Tape.Record();
        using (Grad.NoGrad())
        {
            using var y = Ops.Scale(x, 2f);
            Assert.False(y.RequiresGrad);
        }
        Assert.Equal(0, tape.Count);
        using var z = Ops.Scale(x, 2f);
        Assert.True(z.RequiresGrad);
        Assert.Equal(1, tape.Count);
    }

    [Fact]
    public void Backward_needs_a_scalar_or_a_seed()
    {
        using var x = Param(4, 9, "x");
        using var tape = Tape.Record();
        using var y = Ops.Scale(x, 3f);
        Assert.Throws<ArgumentException>(() => tape.Backward(y));
        using var seed = Tensor.FromHost(device, Reference.RandomNormal(4, 10), 4);
        tape.Backward(y, seed);
        var expected = seed.ToFloatArray().Select(v => 3.0 * v).ToArray();
        Assert.True(Reference.RelativeError(x.Grad!.ToFloatArray(), expected) <= 1e-7);
    }
}
