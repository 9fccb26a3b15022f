using IlgpuDiffusion.Kernels;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

/// <summary>
/// The float math the kernels use where results must be identical on every device, checked here on the host (the
/// same C# runs inside the kernels) against float64 System.Math.
/// </summary>
public class ReproducibleMathTests(ITestOutputHelper output)
{
    [Fact]
    public void Log_is_within_two_ulp_of_float64()
    {
        var rng = new System.Random(5);
        var inputs = Enumerable.Range(1, 4000).Select(k => (float)((2 * k - 1) / 8000.0)) // (0, 1) as Box–Muller uses it
            .Concat(Enumerable.Range(0, 4000).Select(_ => (float)Math.Exp(rng.NextDouble() * 160 - 80))) // 1e-35 … 5e34
            .Concat([1f, 2f, 0.5f, 1.41421354f, 1.41421366f, 0.70710677f, 1f / 16777216f, float.Epsilon * (1 << 23)]);
        double worst = 0;
        foreach (var x in inputs)
        {
            double exact = Math.Log(x), got = ReproducibleMath.Log(x);
            float magnitude = MathF.Abs((float)exact);
            double ulp = MathF.BitIncrement(magnitude) - magnitude;
            worst = Math.Max(worst, Math.Abs(got - exact) / ulp);
        }
        output.WriteLine($"Log: worst error {worst:F2} ulp");
        Assert.True(worst <= 2, $"worst error {worst:F2} ulp");
    }

    [Fact]
    public void SinCosTurns_is_within_3e_minus_7_of_float64()
    {
        var rng = new System.Random(6);
        var inputs = Enumerable.Range(-4096, 8193).Select(k => k / 2048f) // every eighth of a quarter turn in [-2, 2]
            .Concat(Enumerable.Range(0, 8000).Select(_ => (float)(rng.NextDouble() * 4 - 2)))
            .Concat([0.125f - 1e-8f, 0.125f + 1e-8f, 1e-30f, -1e-30f, 1000.3f]);
        double worst = 0;
        foreach (var turns in inputs)
        {
            ReproducibleMath.SinCosTurns(turns, out float sin, out float cos);
            double angle = 2 * Math.PI * turns;
            worst = Math.Max(worst, Math.Max(Math.Abs(sin - Math.Sin(angle)), Math.Abs(cos - Math.Cos(angle))));
        }
        output.WriteLine($"SinCosTurns: worst absolute error {worst:E2}");
        // Absolute bound: about 2 ulp of 1 (float's spacing near 1 is 6e-8 below and 1.2e-7 above).
        Assert.True(worst <= 3e-7, $"worst absolute error {worst:E2}");
    }

    [Fact]
    public void Rounded_operations_are_the_plain_ieee_operations_on_the_host()
    {
        Assert.Equal(0.1f * 3f, ReproducibleMath.Mul(0.1f, 3f));
        Assert.Equal(0.1f + 0.2f, ReproducibleMath.Add(0.1f, 0.2f));
        Assert.Equal(0.3f - 0.1f, ReproducibleMath.Sub(0.3f, 0.1f));
        Assert.Equal(0.1 * 3.0, ReproducibleMath.Mul(0.1, 3.0));
    }
}
