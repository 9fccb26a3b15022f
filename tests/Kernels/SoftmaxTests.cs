using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

/// <summary>Softmax (scaled, optionally causal) against a float64 host reference, its backward against finite differences.</summary>
public class SoftmaxTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.Portable;

    [Theory]
    [InlineData(new[] { 1, 1 }, 1f, false)]
    [InlineData(new[] { 3, 7 }, 1f, false)]
    [InlineData(new[] { 2, 3, 5 }, 0.125f, false)]
    [InlineData(new[] { 4, 4 }, 1f, true)]
    [InlineData(new[] { 2, 3, 5, 5 }, 0.3f, true)]
    public void Forward_and_backward_match_float64(int[] shape, float scale, bool causal)
    {
        int count = shape.Aggregate(1, (a, b) => a * b);
        var x = Reference.RandomNormal(count, count).Select((v, i) => 1.5f + (1f + i % 3) * v).ToArray();
        var dy = Reference.RandomNormal(count, count + 1).Select(v => 0.3f + v).ToArray();
        using var tx = Tensor.FromHost(device, x, shape);
        using var tdy = Tensor.FromHost(device, dy, shape);
        using var y = Softmax.Forward(tx, scale, causal);
        var got = y.ToFloatArray();

        int cols = shape[^1];
        double[] xd = x.Select(v => (double)v).ToArray(), dyd = dy.Select(v => (double)v).ToArray();
        double forwardError = Reference.RelativeError(got, SoftmaxReference(xd, cols, scale, causal));
        output.WriteLine($"forward relative error {forwardError:E2}");
        Assert.True(forwardError <= 1e-5, $"forward relative error {forwardError}");   // f32 forward bound
        if (causal)
            for (int i = 0; i < count; i++)
                if (i % cols > i / cols % cols) Assert.Equal(0f, got[i]);   // masked entries are exactly 0

        using var dx = Softmax.Backward(y, tdy, scale);
        var expected = FiniteDifference.Gradient(v => SoftmaxReference(v, cols, scale, causal), xd, dyd);
        double backwardError = Reference.RelativeError(dx.ToFloatArray(), expected);
        output.WriteLine($"backward relative error {backwardError:E2}");
        Assert.True(backwardError <= 1e-4, $"backward relative error {backwardError}");   // vs float64 finite differences
    }

    [Fact]
    public void Large_magnitude_logits_stay_finite_and_accurate()
    {
        // Rows of logits around +5000 and −5000 with spread 3 (and a causal variant): without the max subtraction
        // exp overflows to ∞ or underflows to 0 for every entry.
        int rows = 6, cols = 6;
        var x = Reference.RandomNormal(rows * cols, 7).Select((v, i) => (i / cols % 2 == 0 ? 5000f : -5000f) + 3f * v).ToArray();
        double[] xd = x.Select(v => (double)v).ToArray();
        foreach (bool causal in new[] { false, true })
        {
            using var tx = Tensor.FromHost(device, x, rows, cols);
            using var y = Softmax.Forward(tx, 1f, causal);
            var got = y.ToFloatArray();
            Assert.All(got, v => Assert.True(float.IsFinite(v)));
            double error = Reference.RelativeError(got, SoftmaxReference(xd, cols, 1f, causal));
            output.WriteLine($"causal {causal}: relative error {error:E2}");
            Assert.True(error <= 1e-5, $"relative error {error} (causal {causal})");   // f32 forward bound
            for (int r = 0; r < rows; r++)
                Assert.InRange(got.Skip(r * cols).Take(cols).Sum(), 1f - 1e-6f, 1f + 1e-6f);
        }
    }

    [Fact]
    public void Bad_shapes_dtypes_and_scales_are_refused_naming_the_argument()
    {
        using var rect = Tensor.FromHost(device, Reference.RandomNormal(12, 1), 3, 4);
        using var square = Tensor.FromHost(device, Reference.RandomNormal(16, 2), 4, 4);
        using var vector = Tensor.FromHost(device, Reference.RandomNormal(4, 3), 4);
        using var half = Tensor.FromHost(device, Reference.RandomNormal(16, 4).Select(v => (System.Half)v).ToArray(), 4, 4);

        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Softmax.Forward(rect, causal: true)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Softmax.Forward(vector, causal: true)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Softmax.Forward(half)).ParamName);
        Assert.Equal("scale", Assert.Throws<ArgumentException>(() => Softmax.Forward(square, float.NaN)).ParamName);
        Assert.Equal("dy", Assert.Throws<ArgumentException>(() => Softmax.Backward(square, rect)).ParamName);
        Assert.Equal("dy", Assert.Throws<ArgumentException>(() => Softmax.Backward(square, half)).ParamName);
    }

    /// <summary>softmax(scale·x) per row of <paramref name="cols"/> in float64; causal rows see columns 0..(row mod cols).</summary>
    private static double[] SoftmaxReference(double[] x, int cols, double scale, bool causal)
    {
        var y = new double[x.Length];
        for (int r = 0; r < x.Length / cols; r++)
        {
            int visible = causal ? r % cols + 1 : cols;
            double max = Enumerable.Range(0, visible).Max(j => scale * x[r * cols + j]);
            double sum = Enumerable.Range(0, visible).Sum(j => Math.Exp(scale * x[r * cols + j] - max));
            for (int j = 0; j < visible; j++) y[r * cols + j] = Math.Exp(scale * x[r * cols + j] - max) / sum;
        }
        return y;
    }
}
