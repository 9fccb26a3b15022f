using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Autograd;

/// <summary>Whole graphs: frozen weights cost no gradient memory, checkpointing changes nothing, no-grad leaks nothing.</summary>
public class GraphTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.Portable;

    private Var Param(int seed, params int[] shape) => new GraphInput(seed, shape).ToVar(device);

    private Var Frozen(int seed, params int[] shape) => new GraphInput(seed, shape, Trains: false).ToVar(device);

    public static TheoryData<string> FrozenLayers => new() { "Linear", "Conv2d" };

    [Theory]
    [MemberData(nameof(FrozenLayers))]
    public void A_frozen_weight_gets_no_gradient_buffer_or_weight_gradient(string layer)
    {
        // The weight (16-18 KiB) dwarfs every activation and gradient, so a weight gradient would show in the peak.
        bool linear = layer == "Linear";
        using var x = linear ? Param(90, 1, 16) : Param(90, 1, 2, 2, 16);
        using var weight = linear ? Frozen(91, 256, 16) : Frozen(91, 32, 3, 3, 16);
        using var bias = Param(92, linear ? 256 : 32);
        Var Layer() => linear ? Ops.Linear(x, weight, bias) : Ops.Conv2d(x, weight, bias, Conv2dParams.Symmetric(1, 1));
        void Step()
        {
            using var tape = Tape.Record();
            using var y = Layer();
            using var loss = Ops.Sum(y);
            device.Memory.ResetPeak();
            tape.Backward(loss);
        }

        Step();                                   // warm-up: kernels compiled, allocator buckets populated
        x.ZeroGrad();
        bias.ZeroGrad();
        long before = device.Memory.LiveBytes;
        Step();
        long transient = device.Memory.PeakLiveBytes - before;
        output.WriteLine($"{layer}: peak above start {transient} B, weight {weight.Value.ByteCount} B");
        Assert.Null(weight.Grad);
        Assert.NotNull(x.Grad);
        Assert.NotNull(bias.Grad);
        Assert.True(transient < weight.Value.ByteCount, $"backward peaked {transient} B above its start");
        // Only the gradients of x and the bias stay alive.
        Assert.Equal(before + DeviceMemory.BucketSize(x.Value.ByteCount) + DeviceMemory.BucketSize(bias.Value.ByteCount), device.Memory.LiveBytes);
    }

    [Fact]
    public void A_gradient_used_twice_is_not_corrupted_by_accumulation()
    {
        // u feeds both the residual and the Linear: Add hands its output gradient to both, and the Linear's input
        // gradient is added into u's while that gradient is still needed for the weight's.
        new GradientCheck(output).Run("residual u + Linear(u)",
            v =>
            {
                using var u = Ops.Scale(v[0], 1.5f);
                using var branch = Ops.Linear(u, v[1]);
                return Ops.Add(u, branch);
            },
            h =>
            {
                var u = h[0].Select(a => 1.5 * a).ToArray();
                return [.. HostOps.Linear(u, h[1], null, 5).Select((b, i) => u[i] + b)];
            },
            new GraphInput(93, [3, 5]), new GraphInput(94, [5, 5]));
    }

    /// <summary>A small UNet-like block: GroupNorm+SiLU → 3×3 conv → single-head self-attention with Linear projections, plus a residual.</summary>
    private sealed class Block(GraphTests t) : IDisposable
    {
        public readonly Var[] Parameters =
        [
            t.Param(100, 4), t.Param(101, 4),                       // γ, β
            t.Param(102, 4, 3, 3, 4), t.Param(103, 4),              // conv
            t.Param(104, 4, 4), t.Frozen(105, 4, 4), t.Param(106, 4, 4), t.Param(107, 4, 4), t.Param(108, 4),   // q, k (frozen), v, out
        ];

        public Var Forward(Var x)
        {
            var p = Parameters;
            using var normed = Ops.GroupNorm(x, p[0], p[1], 2, 1e-5f, silu: true);
            using var conv = Ops.Conv2d(normed, p[2], p[3], Conv2dParams.Symmetric(1, 1));
            using var tokens = Ops.Reshape(conv, 1, 9, 4);
            using var q = Ops.Linear(tokens, p[4]);
            using var k = Ops.Linear(tokens, p[5]);
            using var v = Ops.Linear(tokens, p[6]);
            using var attended = Ops.Attention(q, k, v, heads: 1);
            using var projected = Ops.Linear(attended, p[7], p[8]);
            using var image = Ops.Reshape(projected, 1, 3, 3, 4);
            return Ops.Add(conv, image);
        }

        public void Dispose()
        {
            foreach (var v in Parameters) v.Dispose();
        }
    }

    [Fact]
    public void A_checkpointed_block_gives_the_plain_gradients()
    {
        using var block = new Block(this);
        using var x = Param(109, 1, 3, 3, 4);

        float[][] Run(bool checkpointed)
        {
            x.ZeroGrad();
            foreach (var p in block.Parameters) p.ZeroGrad();
            using var tape = Tape.Record();
            using var pre = Ops.Scale(x, 1.5f);                 // an intermediate input to the block
            using var y = checkpointed ? Checkpoint.Run(v => block.Forward(v[0]), pre) : block.Forward(pre);
            using var w = Param(110, 1, 3, 3, 4);
            using var weighted = Ops.Mul(y, w);
            using var loss = Ops.Sum(weighted);
            tape.Backward(loss);
            return [x.Grad!.ToFloatArray(), .. block.Parameters.Where(p => p.RequiresGrad).Select(p => p.Grad!.ToFloatArray())];
        }

        var plain = Run(false);
        var checkpointed = Run(true);
        Assert.Null(block.Parameters[5].Grad);
        Assert.Equal(plain.Length, checkpointed.Length);
        for (int i = 0; i < plain.Length; i++) Assert.Equal(plain[i], checkpointed[i]);   // the same kernels in the same order: bit-exact
    }

    [Fact]
    public void A_no_grad_forward_leaves_nothing_alive()
    {
        using var block = new Block(this);
        using var x = Param(111, 1, 3, 3, 4);
        using (Grad.NoGrad())
        using (block.Forward(x)) { }                          // warm-up
        long before = device.Memory.LiveBytes;
        using var tape = Tape.Record();                       // even with a tape open, no-grad records nothing
        using (Grad.NoGrad())
        {
            using var y = block.Forward(x);
            Assert.False(y.RequiresGrad);
        }
        Assert.Equal(0, tape.Count);
        Assert.Equal(before, device.Memory.LiveBytes);
    }
}
