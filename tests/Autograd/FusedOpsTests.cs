using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Autograd;

/// <summary>
/// The ops that fuse two steps for inference, <see cref="Ops.LinearGeglu"/> and <see cref="Ops.Conv2dAdd"/>: under a
/// recording tape they are the two ops with their gradients (checked against finite differences); for inference
/// they run the single fused kernel op and record nothing.
/// </summary>
public class FusedOpsTests(ITestOutputHelper output)
{
    private readonly GradientCheck check = new(output);

    [Fact]
    public void Recorded_linear_geglu_has_the_gradients_of_linear_then_geglu() =>
        check.Run("LinearGeglu", v => Ops.LinearGeglu(v[0], v[1], v[2]),
            h => HostOps.Geglu(HostOps.Linear(h[0], h[1], h[2], 6), 3),
            new GraphInput(70, [2, 2, 4]), new GraphInput(71, [6, 4]), new GraphInput(72, [6]));

    [Fact]
    public void Inference_runs_the_fused_op_and_records_nothing()
    {
        var device = Devices.Portable;
        GraphInput xIn = new(73, [3, 4], Trains: false), wIn = new(74, [10, 4], Trains: false, Half: true), bIn = new(75, [10], Trains: false, Half: true);
        using var x = xIn.ToVar(device);
        using var w = wIn.ToVar(device);
        using var b = bIn.ToVar(device);
        using var tape = Tape.Record();
        using var y = Ops.LinearGeglu(x, w, b);
        Assert.Equal(0, tape.Count);
        Assert.False(y.RequiresGrad);
        Assert.Equal(new Shape(3, 5), y.Shape);
        double error = Reference.RelativeError(y.Value.ToFloatArray(), HostOps.Geglu(HostOps.Linear(xIn.Host(), wIn.Host(), bIn.Host(), 10), 5));
        output.WriteLine($"fused LinearGeglu (F16 weights) vs float64: {error:E2}");
        Assert.True(error <= GradientCheck.ForwardBound, $"relative error {error}"); // f32 forward vs float64
    }

    private static readonly Conv2dParams same = Conv2dParams.Symmetric(1, 1);

    [Fact]
    public void Recorded_conv2d_add_has_the_gradients_of_conv2d_then_add() =>
        check.Run("Conv2dAdd", v => Ops.Conv2dAdd(v[0], v[1], v[2], same, v[3]),
            h => [.. HostOps.Conv2d(h[0], [1, 4, 3, 2], h[1], [3, 3, 3, 2], h[2], same).Select((y, i) => y + h[3][i])],
            new GraphInput(80, [1, 4, 3, 2]), new GraphInput(81, [3, 3, 3, 2]), new GraphInput(82, [3]), new GraphInput(83, [1, 4, 3, 3]));

    [Fact]
    public void Inference_conv2d_add_fuses_the_residual_and_records_nothing()
    {
        var device = Devices.Portable;
        GraphInput xIn = new(84, [1, 4, 3, 2], Trains: false), wIn = new(85, [3, 3, 3, 2], Trains: false, Half: true);
        GraphInput bIn = new(86, [3], Trains: false, Half: true), rIn = new(87, [1, 4, 3, 3], Trains: false);
        using var x = xIn.ToVar(device);
        using var w = wIn.ToVar(device);
        using var b = bIn.ToVar(device);
        using var r = rIn.ToVar(device);
        using var tape = Tape.Record();
        using var y = Ops.Conv2dAdd(x, w, b, same, r);
        Assert.Equal(0, tape.Count);
        var residual = rIn.Host();
        var expected = HostOps.Conv2d(xIn.Host(), [1, 4, 3, 2], wIn.Host(), [3, 3, 3, 2], bIn.Host(), same).Select((v, i) => v + residual[i]).ToArray();
        double error = Reference.RelativeError(y.Value.ToFloatArray(), expected);
        output.WriteLine($"fused Conv2dAdd (F16 weights) vs float64: {error:E2}");
        Assert.True(error <= GradientCheck.ForwardBound, $"relative error {error}"); // f32 forward vs float64
    }
}
