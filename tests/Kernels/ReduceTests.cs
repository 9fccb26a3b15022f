using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

public class ReduceTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.Portable;

    public static TheoryData<int[]> Shapes() => new() { new[] { 1 }, new[] { 9 }, new[] { 3, 7 }, new[] { 2, 3, 5 }, new[] { 2, 2, 3, 7 }, new[] { 2000, 3 } };

    [Theory]
    [InlineData(1)]
    [InlineData(255)]
    [InlineData(257)]
    [InlineData(70_001)]
    public void Mean_matches_float64_and_is_deterministic(int n)
    {
        var x = Reference.RandomNormal(n, 10 + n);
        using var t = Tensor.FromHost(device, x, n);
        using var m1 = Reduce.Mean(t);
        using var m2 = Reduce.Mean(t);
        double expected = x.Sum(v => (double)v) / n, scale = x.Sum(v => Math.Abs((double)v)) / n;
        float got = m1.ToFloatArray().Single();
        output.WriteLine($"mean [{n}]: error {Math.Abs(got - expected) / scale:E3} of mean |x|");
        // Chunked f32 sums (≤ 256 sequential adds per pass): ≤ 1e-6 of Σ|x|, the scale of any rounding error.
        Assert.True(Math.Abs(got - expected) <= 1e-6 * scale, $"mean {got} vs {expected}");
        Assert.Equal(got, m2.ToFloatArray().Single());
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Sum_to_last_dim_matches_float64_and_is_deterministic(int[] shape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b), c = shape[^1];
        var x = Reference.RandomNormal(n, 20 + n);
        var expected = new double[c];
        for (int i = 0; i < n; i++) expected[i % c] += x[i];
        using var t = Tensor.FromHost(device, x, shape);
        using var s1 = Reduce.SumToLastDim(t);
        using var s2 = Reduce.SumToLastDim(t);
        Assert.Equal(new Shape(c), s1.Shape);
        double error = Reference.RelativeError(s1.ToFloatArray(), expected);
        output.WriteLine($"SumToLastDim {Show(shape)}: rel error {error:E3}");
        Assert.True(error <= 1e-6, $"rel error {error}");   // Kahan-compensated f32 sums: ~1 ulp of the result
        Assert.Equal(s1.ToFloatArray(), s2.ToFloatArray());
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Sum_last_dim_matches_float64(int[] shape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b), c = shape[^1];
        var x = Reference.RandomNormal(n, 30 + n);
        var expected = new double[n / c];
        for (int i = 0; i < n; i++) expected[i / c] += x[i];
        using var t = Tensor.FromHost(device, x, shape);
        using var s = Reduce.SumLastDim(t);
        Assert.Equal(shape.Length == 1 ? new Shape(1) : new Shape(shape[..^1]), s.Shape);
        double error = Reference.RelativeError(s.ToFloatArray(), expected);
        output.WriteLine($"SumLastDim {Show(shape)}: rel error {error:E3}");
        Assert.True(error <= 1e-6, $"rel error {error}");   // Kahan-compensated f32 sums
    }

    [Fact]
    public void Compensated_sums_stay_accurate_over_long_reductions()
    {
        // 20 000 values of mean 1: a plain f32 running sum drifts by ~1e-5 relative here; Kahan stays within ~2 ulp.
        int rows = 20_000;
        var x = Reference.RandomNormal(rows, 7).Select(v => 1f + 0.1f * v).ToArray();
        using var t = Tensor.FromHost(device, x, rows, 1);
        using var s = Reduce.SumToLastDim(t);
        double expected = x.Sum(v => (double)v);
        double error = Math.Abs(s.ToFloatArray()[0] - expected) / expected;
        output.WriteLine($"SumToLastDim over {rows} rows: rel error {error:E3}");
        Assert.True(error <= 2e-7, $"rel error {error}");
    }

    [Fact]
    public void Non_f32_inputs_are_refused()
    {
        using var h = Tensor.Zeros(device, DType.F16, 4, 3);
        using var i = Tensor.Zeros(device, DType.I32, 4, 3);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Reduce.Mean(h)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Reduce.SumToLastDim(i)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Reduce.SumLastDim(h)).ParamName);
    }

    private static string Show(int[] shape) => $"[{string.Join(", ", shape)}]";
}
