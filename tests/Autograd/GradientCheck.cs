using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Autograd;

/// <summary>One input of a checked graph: random normal values of a shape, trainable or frozen, stored F32 or F16.</summary>
public sealed record GraphInput(int Seed, int[] Shape, bool Trains = true, bool Half = false)
{
    /// <summary>The values as the device holds them (F16 inputs rounded), in float64.</summary>
    public double[] Host() => [.. Reference.RandomNormal(Shape.Aggregate(1, (a, b) => a * b), Seed).Select(v => Half ? (double)(System.Half)v : v)];

    public Var ToVar(Device device)
    {
        var values = Reference.RandomNormal(Shape.Aggregate(1, (a, b) => a * b), Seed);
        var t = Half ? Tensor.FromHost(device, values.Select(v => (System.Half)v).ToArray(), Shape) : Tensor.FromHost(device, values, Shape);
        return Trains ? Var.Parameter(t, $"input{Seed}") : Var.Constant(t, $"input{Seed}");
    }
}

/// <summary>
/// Runs an op through a recording tape with a random output gradient (the seed w, i.e. loss = Σ w ⊙ op(inputs)),
/// checks its forward against a float64 host reference and every trainable input's gradient against central finite
/// differences of that reference; frozen inputs must end with no gradient.
/// </summary>
public sealed class GradientCheck(ITestOutputHelper output)
{
    /// <summary>f32 forward vs float64 (the design's bound for an op's forward).</summary>
    public const double ForwardBound = 1e-5;

    /// <summary>f32 gradients vs float64 central differences (the bound for backward).</summary>
    public const double GradientBound = 1e-4;

    public void Run(string name, Func<Var[], Var> op, Func<double[][], double[]> reference, params GraphInput[] inputs)
    {
        var device = Devices.Portable;
        var vars = inputs.Select(i => i.ToVar(device)).ToArray();
        try
        {
            var host = inputs.Select(i => i.Host()).ToArray();
            double[] seed;
            using (var tape = Tape.Record())
            using (var y = op(vars))
            {
                double forward = Reference.RelativeError(y.Value.ToFloatArray(), reference(host));
                output.WriteLine($"{name}: forward rel error {forward:E2}");
                Assert.True(forward <= ForwardBound, $"{name}: forward rel error {forward}");
                var w = Reference.RandomNormal(y.Value.Count, 12345);
                seed = [.. w.Select(v => (double)v)];
                using var seedTensor = Tensor.FromHost(device, w, y.Shape.ToArray());
                tape.Backward(y, seedTensor);
            }
            for (int i = 0; i < inputs.Length; i++)
            {
                if (!inputs[i].Trains)
                {
                    Assert.Null(vars[i].Grad);
                    continue;
                }
                Assert.NotNull(vars[i].Grad);
                int index = i;
                var expected = FiniteDifference.Gradient(p => reference([.. host.Select((h, j) => j == index ? p : h)]), host[i], seed);
                double error = Reference.RelativeError(vars[i].Grad!.ToFloatArray(), expected);
                output.WriteLine($"{name}: d input {i} {string.Join('x', inputs[i].Shape)} rel error {error:E2}");
                Assert.True(error <= GradientBound, $"{name}: gradient of input {i} rel error {error}");
            }
        }
        finally
        {
            foreach (var v in vars) v.Dispose();
        }
    }
}
