using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

public class ResampleTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.Portable;

    /// <summary>PyTorch's nearest index for <c>F.interpolate(size=...)</c>: min(floor(dst · (float)in / out), in − 1), in fp32.</summary>
    private static int TorchNearest(int dst, int inSize, int outSize) =>
        Math.Min((int)MathF.Floor(dst * ((float)inSize / outSize)), inSize - 1);

    private static double[] HostNearest(double[] x, int n, int h, int w, int c, int hout, int wout)
    {
        var y = new double[n * hout * wout * c];
        for (int b = 0; b < n; b++)
            for (int oh = 0; oh < hout; oh++)
                for (int ow = 0; ow < wout; ow++)
                    for (int ch = 0; ch < c; ch++)
                        y[((b * hout + oh) * wout + ow) * c + ch] =
                            x[((b * h + TorchNearest(oh, h, hout)) * w + TorchNearest(ow, w, wout)) * c + ch];
        return y;
    }

    [Fact]
    public void Upsample_2x_repeats_each_pixel_in_a_2x2_block_and_its_gradient_sums_the_block()
    {
        int n = 2, h = 3, w = 4, c = 3;
        var x = Reference.RandomNormal(n * h * w * c, 1);
        using var tx = Tensor.FromHost(device, x, n, h, w, c);
        using var y = Resample.UpsampleNearest2x(tx);
        Assert.Equal(new Shape(n, 2 * h, 2 * w, c), y.Shape);
        var got = y.ToFloatArray();
        for (int b = 0; b < n; b++)
            for (int oh = 0; oh < 2 * h; oh++)
                for (int ow = 0; ow < 2 * w; ow++)
                    for (int ch = 0; ch < c; ch++)
                        Assert.Equal(x[((b * h + oh / 2) * w + ow / 2) * c + ch], got[((b * 2 * h + oh) * 2 * w + ow) * c + ch]);

        var dy = Reference.RandomNormal(got.Length, 2);
        using var tdy = Tensor.FromHost(device, dy, n, 2 * h, 2 * w, c);
        using var dx = Tensor.Empty(device, DType.F32, n, h, w, c);
        Resample.UpsampleNearestBackward(tdy, dx);
        var expected = new double[x.Length];
        for (int b = 0; b < n; b++)
            for (int ih = 0; ih < h; ih++)
                for (int iw = 0; iw < w; iw++)
                    for (int ch = 0; ch < c; ch++)
                        for (int k = 0; k < 4; k++)
                            expected[((b * h + ih) * w + iw) * c + ch] += dy[((b * 2 * h + 2 * ih + k / 2) * 2 * w + 2 * iw + k % 2) * c + ch];
        double err = Reference.RelativeError(dx.ToFloatArray(), expected);
        output.WriteLine($"2x backward rel err {err:E2}");
        Assert.True(err <= 1e-6, $"{err}"); // four fp32 additions per element
    }

    [Theory]
    [InlineData(3, 4, 5, 7)]   // odd target sizes
    [InlineData(5, 5, 9, 10)]  // a skip connection of an odd latent (5 → 9)
    [InlineData(5, 6, 3, 4)]   // shrinking also follows the same rule
    [InlineData(4, 3, 4, 3)]   // same size: a copy
    [InlineData(7, 3, 20, 14)] // scales 7/20, 3/14 are inexact in fp32
    public void Upsample_to_a_size_matches_pytorch_nearest_and_its_gradient_matches_finite_differences(int h, int w, int hout, int wout)
    {
        int n = 2, c = 3;
        var x = Reference.RandomNormal(n * h * w * c, 10 + h);
        using var tx = Tensor.FromHost(device, x, n, h, w, c);
        using var y = Resample.UpsampleNearest(tx, hout, wout);
        Assert.Equal(new Shape(n, hout, wout, c), y.Shape);
        var xd = x.Select(v => (double)v).ToArray();
        Assert.Equal(0, Reference.RelativeError(y.ToFloatArray(), HostNearest(xd, n, h, w, c, hout, wout))); // a copy: exact

        var dy = Reference.RandomNormal(n * hout * wout * c, 20 + h);
        using var tdy = Tensor.FromHost(device, dy, n, hout, wout, c);
        using var dx = Tensor.Empty(device, DType.F32, n, h, w, c);
        Resample.UpsampleNearestBackward(tdy, dx);
        var expected = FiniteDifference.Gradient(v => HostNearest(v, n, h, w, c, hout, wout), xd, dy.Select(v => (double)v).ToArray());
        double err = Reference.RelativeError(dx.ToFloatArray(), expected);
        output.WriteLine($"{h}x{w} → {hout}x{wout}: backward rel err {err:E2}");
        Assert.True(err <= 1e-4, $"{err}"); // central differences in float64 of a linear map, fp32 sums
    }

    [Fact]
    public void Bad_arguments_are_refused_before_launch()
    {
        using var x = Tensor.FromHost(device, Reference.RandomNormal(2 * 3 * 3 * 4, 30), 2, 3, 3, 4);
        using var x16 = Tensor.FromHost(device, Reference.RandomNormal(2 * 3 * 3 * 4, 31).Select(v => (System.Half)v).ToArray(), 2, 3, 3, 4);
        using var otherChannels = Tensor.Empty(device, DType.F32, 2, 6, 6, 3);
        using var otherBatch = Tensor.Empty(device, DType.F32, 1, 6, 6, 4);
        using var rank3 = Tensor.Empty(device, DType.F32, 2, 6, 24);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => Resample.UpsampleNearest(x, otherChannels)).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => Resample.UpsampleNearest(x, otherBatch)).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => Resample.UpsampleNearest(x, rank3)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Resample.UpsampleNearest2x(x16)).ParamName);
        Assert.Equal("height", Assert.Throws<ArgumentException>(() => Resample.UpsampleNearest(x, 0, 4)).ParamName);
        Assert.Equal("dy", Assert.Throws<ArgumentException>(() => Resample.UpsampleNearestBackward(otherChannels, x)).ParamName);
    }
}
