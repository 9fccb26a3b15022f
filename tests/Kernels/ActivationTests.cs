using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

public class ActivationTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.Portable;

    public static TheoryData<ActivationKind, int[]> KindsAndShapes()
    {
        var data = new TheoryData<ActivationKind, int[]>();
        foreach (var kind in Enum.GetValues<ActivationKind>())
            foreach (var shape in new[] { new[] { 7 }, new[] { 2, 3, 5 }, new[] { 3, 1, 4, 9 } })
                data.Add(kind, shape);
        return data;
    }

    [Fact]
    public void Reference_erf_series_and_continued_fraction_agree()
    {
        // Self-check of the float64 test reference: the two independent expansions agree on [1, 4] to ~10 double ulp of 1.
        for (double x = 1; x <= 4; x += 0.01)
            Assert.True(Math.Abs(ErfReference.Series(x) - (1 - ErfReference.ContinuedFraction(x))) <= 4e-15, $"x = {x}");
        Assert.Equal(0.8427007929497149, ErfReference.Erf(1), 15);   // erf(1), 16 digits
    }

    [Fact]
    public void Erf_is_within_float_precision_of_a_float64_reference()
    {
        double maxAbs = 0, maxRel = 0;
        foreach (float x in Grid(-6f, 6f, 0.0007f).Concat([1e-30f, -1e-20f, 1e-6f, 0.92f, 0.9200001f, 3.999f, 4f]))
        {
            double expected = ErfReference.Erf(x), got = ErfMath.Erf(x);
            maxAbs = Math.Max(maxAbs, Math.Abs(got - expected));
            maxRel = Math.Max(maxRel, Math.Abs(got - expected) / Math.Abs(expected));
        }
        output.WriteLine($"erf: max abs error {maxAbs:E3}, max rel error {maxRel:E3}");
        // Fitted float approximation: 1.3 ulp with a correctly rounded exp (7.6e-8 abs, 9.2e-8 rel); .NET's MathF.Exp
        // is within an ulp, so 1.5e-7 absolute and relative leave room for exp's own error.
        Assert.True(maxAbs <= 1.5e-7, $"max abs {maxAbs}");
        Assert.True(maxRel <= 1.5e-7, $"max rel {maxRel}");
        Assert.Equal(1f, ErfMath.Erf(float.PositiveInfinity));
        Assert.Equal(-1f, ErfMath.Erf(-50f));
    }

    [Fact]
    public void Normal_cdf_is_accurate_relative_to_itself_in_both_tails()
    {
        double maxRel = 0, maxRelTail = 0;
        foreach (float x in Grid(-5.6f, 8f, 0.0011f))
        {
            double expected = 0.5 * ErfReference.Erfc(-x / Math.Sqrt(2)), got = ErfMath.NormalCdf(x);
            double rel = Math.Abs(got - expected) / expected;
            if (x < -1.3f) maxRelTail = Math.Max(maxRelTail, rel);
            else maxRel = Math.Max(maxRel, rel);
        }
        output.WriteLine($"Φ: max rel error {maxRel:E3} for x ≥ −1.3, {maxRelTail:E3} for −5.6 ≤ x < −1.3");
        // For x ≥ −1.3 it is erf's error (≤ 1.5e-7 absolute) over Φ ≥ 0.1. Below, Φ = ½·exp(R(t)) keeps its relative
        // accuracy (where ½·(1 + erf) would cancel away to 1e-3 at x = −4) but the float rounding of R, |R| ≤ 17,
        // costs a few ulp of R: ~1e-6 of Φ.
        Assert.True(maxRel <= 1e-6, $"max rel {maxRel}");
        Assert.True(maxRelTail <= 5e-6, $"max rel (lower tail) {maxRelTail}");
    }

    [Theory]
    [MemberData(nameof(KindsAndShapes))]
    public void Forward_matches_float64(ActivationKind kind, int[] shape)
    {
        var x = Scaled(Reference.RandomNormal(Count(shape), 100 + Count(shape)), 3f);
        using var tx = Tensor.FromHost(device, x, shape);
        using var ty = Tensor.Empty(device, DType.F32, shape);
        Activation.Forward(kind, tx, ty);
        double error = Reference.RelativeError(ty.ToFloatArray(), x.Select(v => Host(kind, v)).ToArray());
        output.WriteLine($"{kind} forward {Show(shape)}: rel error {error:E3}");
        // f32 with exp (and the erf fit) accurate to ~1 ulp: well inside the 1e-5 forward bound; 1e-6 asserted.
        Assert.True(error <= 1e-6, $"rel error {error}");

        Activation.Forward(kind, tx, tx); // in place
        Assert.Equal(ty.ToFloatArray(), tx.ToFloatArray());
    }

    [Theory]
    [MemberData(nameof(KindsAndShapes))]
    public void Backward_matches_finite_differences(ActivationKind kind, int[] shape)
    {
        int n = Count(shape);
        var x = Scaled(Reference.RandomNormal(n, 200 + n), 3f);
        var dy = Reference.RandomNormal(n, 300 + n);
        using var tx = Tensor.FromHost(device, x, shape);
        using var tdy = Tensor.FromHost(device, dy, shape);
        using var tdx = Tensor.Empty(device, DType.F32, shape);
        Activation.Backward(kind, tx, tdy, tdx);
        var expected = FiniteDifference.Gradient(v => v.Select(e => Host(kind, e)).ToArray(), D(x), D(dy));
        double error = Reference.RelativeError(tdx.ToFloatArray(), expected);
        output.WriteLine($"{kind} backward {Show(shape)}: rel error {error:E3}");
        // f32 derivative (~1e-7) against float64 central differences (truncation ~1e-12): 1e-5 bound.
        Assert.True(error <= 1e-5, $"rel error {error}");
    }

    [Theory]
    [InlineData(ActivationKind.Gelu)]
    [InlineData(ActivationKind.QuickGelu)]
    [InlineData(ActivationKind.Silu)]
    public void Extreme_inputs_give_finite_limits(ActivationKind kind)
    {
        float[] x = [-1e4f, -100f, -30f, 30f, 100f, 1e4f];
        using var tx = Tensor.FromHost(device, x, x.Length);
        using var ty = Tensor.Empty(device, DType.F32, x.Length);
        using var ones = Tensor.FromHost(device, x.Select(_ => 1f).ToArray(), x.Length);
        using var tdx = Tensor.Empty(device, DType.F32, x.Length);
        Activation.Forward(kind, tx, ty);
        Activation.Backward(kind, tx, ones, tdx);
        var y = ty.ToFloatArray();
        var dx = tdx.ToFloatArray();
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(x[i] > 0 ? x[i] : 0f, y[i], 1e-3f);           // x·σ or x·Φ saturates to relu
            Assert.Equal(x[i] > 0 ? 1f : 0f, dx[i], 1e-6f);
        }
    }

    [Theory]
    [InlineData(new[] { 1, 2 })]
    [InlineData(new[] { 3, 10 })]
    [InlineData(new[] { 2, 3, 14 })]
    public void Geglu_forward_matches_float64(int[] shape)
    {
        int n = Count(shape), width = shape[^1], features = width / 2;
        var x = Scaled(Reference.RandomNormal(n, 400 + n), 2f);
        var outShape = shape.ToArray();
        outShape[^1] = features;
        using var tx = Tensor.FromHost(device, x, shape);
        using var ty = Tensor.Empty(device, DType.F32, outShape);
        Activation.Geglu(tx, ty);
        double error = Reference.RelativeError(ty.ToFloatArray(), HostGeglu(D(x), width));
        output.WriteLine($"GEGLU forward {Show(shape)}: rel error {error:E3}");
        Assert.True(error <= 1e-6, $"rel error {error}");   // same reasoning as the GELU forward
    }

    [Theory]
    [InlineData(new[] { 1, 2 })]
    [InlineData(new[] { 3, 10 })]
    [InlineData(new[] { 2, 3, 14 })]
    public void Geglu_backward_matches_finite_differences(int[] shape)
    {
        int n = Count(shape), width = shape[^1];
        var x = Scaled(Reference.RandomNormal(n, 500 + n), 2f);
        var dy = Reference.RandomNormal(n / 2, 600 + n);
        var outShape = shape.ToArray();
        outShape[^1] = width / 2;
        using var tx = Tensor.FromHost(device, x, shape);
        using var tdy = Tensor.FromHost(device, dy, outShape);
        using var tdx = Tensor.Empty(device, DType.F32, shape);
        Activation.GegluBackward(tx, tdy, tdx);
        var expected = FiniteDifference.Gradient(v => HostGeglu(v, width), D(x), D(dy));
        double error = Reference.RelativeError(tdx.ToFloatArray(), expected);
        output.WriteLine($"GEGLU backward {Show(shape)}: rel error {error:E3}");
        Assert.True(error <= 1e-5, $"rel error {error}");   // f32 vs float64 central differences
    }

    [Fact]
    public void Bad_operands_are_refused_naming_the_argument()
    {
        using var x = Tensor.Zeros(device, DType.F32, 2, 6);
        using var wrong = Tensor.Zeros(device, DType.F32, 6, 2);
        using var half = Tensor.Zeros(device, DType.F32, 2, 3);
        using var odd = Tensor.Zeros(device, DType.F32, 2, 5);
        using var f16 = Tensor.Zeros(device, DType.F16, 2, 6);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => Activation.Forward(ActivationKind.Gelu, x, wrong)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Activation.Forward(ActivationKind.Silu, f16, x)).ParamName);
        Assert.Equal("kind", Assert.Throws<ArgumentException>(() => Activation.Forward((ActivationKind)99, x, x)).ParamName);
        Assert.Equal("gradOutput", Assert.Throws<ArgumentException>(() => Activation.Backward(ActivationKind.Gelu, x, wrong, x)).ParamName);
        Assert.Equal("gradInput", Assert.Throws<ArgumentException>(() => Activation.Backward(ActivationKind.Gelu, x, x, half)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Activation.Geglu(odd, half)).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => Activation.Geglu(x, x)).ParamName);
        Assert.Equal("gradOutput", Assert.Throws<ArgumentException>(() => Activation.GegluBackward(x, x, x)).ParamName);
        Assert.Equal("gradInput", Assert.Throws<ArgumentException>(() => Activation.GegluBackward(x, half, half)).ParamName);
    }

    private static double Host(ActivationKind kind, double x) => kind switch
    {
        ActivationKind.Gelu => HostGelu(x),
        ActivationKind.QuickGelu => x / (1 + Math.Exp(-1.702 * x)),
        ActivationKind.Silu => x / (1 + Math.Exp(-x)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>x·Φ(x) with Φ(x) = ½·erfc(−x/√2), exact in float64.</summary>
    private static double HostGelu(double x) => x * 0.5 * ErfReference.Erfc(-x / Math.Sqrt(2));

    private static double[] HostGeglu(double[] x, int width)
    {
        int features = width / 2, rows = x.Length / width;
        var y = new double[rows * features];
        for (int r = 0; r < rows; r++)
            for (int f = 0; f < features; f++)
                y[r * features + f] = x[r * width + f] * HostGelu(x[r * width + features + f]);
        return y;
    }

    private static IEnumerable<float> Grid(float from, float to, float step)
    {
        for (int k = 0; from + k * step <= to; k++) yield return from + k * step;
    }

    private static float[] Scaled(float[] x, float s) => x.Select(v => v * s).ToArray();

    private static double[] D(float[] x) => x.Select(v => (double)v).ToArray();

    private static int Count(int[] shape) => shape.Aggregate(1, (a, b) => a * b);

    private static string Show(int[] shape) => $"[{string.Join(", ", shape)}]";
}

/// <summary>
/// erf and erfc in float64, independent of the code under test: the everywhere-positive series
/// erf(x) = (2/√π)·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)) (no cancellation) below 2, and the continued fraction
/// erfc(x) = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …)))) from 2 on (relative accuracy ~1e-15 in the tail).
/// </summary>
internal static class ErfReference
{
    private const double Switch = 2;

    public static double Erf(double x) => x < 0 ? -Erf(-x) : x < Switch ? Series(x) : 1 - ContinuedFraction(x);

    public static double Erfc(double x) => x < 0 ? 2 - Erfc(-x) : x < Switch ? 1 - Series(x) : ContinuedFraction(x);

    public static double ContinuedFraction(double x)
    {
        double f = x;
        for (int k = 400; k >= 1; k--) f = x + k / 2.0 / f;
        return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / f;
    }

    public static double Series(double x)
    {
        double term = x, sum = x;
        for (int n = 0; term > 1e-18 * sum; n++)
        {
            term *= 2 * x * x / (2 * n + 3);
            sum += term;
        }
        return 2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x) * sum;
    }
}
