using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

public class UnaryMathTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.Portable;

    [Fact]
    public void Clamp_and_its_gradient_follow_torch_including_the_bounds_and_nan()
    {
        float[] x = [.. Reference.RandomNormal(37, 500).Select(v => 3f * v), -1f, 2f, float.NaN, float.NegativeInfinity];
        using var tx = Tensor.FromHost(device, x, x.Length);
        using var ty = Tensor.Empty(device, DType.F32, x.Length);
        UnaryMath.Clamp(tx, -1f, 2f, ty);
        var y = ty.ToFloatArray();
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(float.IsNaN(x[i]) ? float.NaN : Math.Clamp(x[i], -1f, 2f), y[i]);

        var dy = Reference.RandomNormal(x.Length, 501);
        using var tdy = Tensor.FromHost(device, dy, x.Length);
        using var tdx = Tensor.Empty(device, DType.F32, x.Length);
        UnaryMath.ClampBackward(tx, -1f, 2f, tdy, tdx);
        var dx = tdx.ToFloatArray();
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(x[i] >= -1f && x[i] <= 2f ? dy[i] : 0f, dx[i]); // the bounds themselves pass the gradient

        UnaryMath.Clamp(tx, -1f, 2f, tx); // in place
        Assert.Equal(y, tx.ToFloatArray());
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(0.5f)]
    [InlineData(-2f)]
    public void Exp_matches_float64(float scale)
    {
        var x = Reference.RandomNormal(3 * 5 * 7, 502).Select(v => 4f * v).ToArray();
        using var tx = Tensor.FromHost(device, x, 3, 5, 7);
        using var ty = Tensor.Empty(device, DType.F32, 3, 5, 7);
        UnaryMath.Exp(tx, scale, ty);
        double error = Reference.RelativeError(ty.ToFloatArray(), x.Select(v => Math.Exp(scale * (double)v)).ToArray());
        output.WriteLine($"exp({scale}·x): rel error {error:E2}");
        Assert.True(error <= 1e-6, $"rel error {error}"); // one rounding of scale·x (amplified by |scale·x| ≤ ~20) and exp's ulp
    }

    [Fact]
    public void Checks_arguments_before_launching()
    {
        using var x = Tensor.Zeros(device, DType.F32, 4);
        using var other = Tensor.Zeros(device, DType.F32, 5);
        using var half = Tensor.Zeros(device, DType.F16, 4);
        Assert.Contains("above max", Assert.Throws<ArgumentException>(() => UnaryMath.Clamp(x, 1f, 0f, x)).Message);
        Assert.Throws<ArgumentException>(() => UnaryMath.Clamp(x, float.NaN, 0f, x));
        Assert.Throws<ArgumentException>(() => UnaryMath.Clamp(x, 0f, 1f, other));
        Assert.Throws<ArgumentException>(() => UnaryMath.Exp(half, 1f, half));
        Assert.Throws<ArgumentException>(() => UnaryMath.ClampBackward(x, 0f, 1f, x, other));
    }
}
