using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

public class FillFromScalarTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.Portable;

    [Theory]
    [InlineData(1, 1f)]
    [InlineData(7, -0.3f)]
    [InlineData(1023, 1f / 1023)]
    public void Fill_from_a_device_scalar_matches_float64(int n, float scale)
    {
        float value = Reference.RandomNormal(1, 40 + n)[0];
        using var scalar = Tensor.FromHost(device, [value], 1);
        using var x = Tensor.FromHost(device, Reference.RandomNormal(n, 50 + n), n);
        Elementwise.FillFromScalar(x, scalar, scale);
        double error = Reference.RelativeError(x.ToFloatArray(), Enumerable.Repeat((double)scale * value, n).ToArray());
        output.WriteLine($"n={n} scale={scale}: rel error {error:E2}");
        Assert.True(error <= 1e-7, $"rel error {error}");   // one f32 product, correctly rounded: ≤ 2⁻²⁴
        Assert.Equal(value, scalar.ToFloatArray()[0]);
    }

    [Fact]
    public void A_scalar_of_several_elements_is_refused()
    {
        using var notScalar = Tensor.Zeros(device, DType.F32, 2);
        using var x = Tensor.Zeros(device, DType.F32, 3);
        var e = Assert.Throws<ArgumentException>(() => Elementwise.FillFromScalar(x, notScalar));
        Assert.Contains("single element", e.Message);
    }
}
