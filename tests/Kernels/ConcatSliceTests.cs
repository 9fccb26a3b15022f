using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Kernels;

public class ConcatSliceTests
{
    private readonly Device device = Devices.Portable;

    private static int Rows(int[] shape) => shape[..^1].Aggregate(1, (a, d) => a * d);

    /// <summary>Host concat along the last axis in float64.</summary>
    private static double[] HostConcat(double[] a, double[] b, int rows, int c1, int c2)
    {
        var y = new double[rows * (c1 + c2)];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < c1; j++) y[r * (c1 + c2) + j] = a[r * c1 + j];
            for (int j = 0; j < c2; j++) y[r * (c1 + c2) + c1 + j] = b[r * c2 + j];
        }
        return y;
    }

    /// <summary>Host slice of channels [start, start + length) in float64.</summary>
    private static double[] HostSlice(double[] x, int rows, int channels, int start, int length)
    {
        var y = new double[rows * length];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < length; j++) y[r * length + j] = x[r * channels + start + j];
        return y;
    }

    private static double[] F64(float[] v) => v.Select(e => (double)e).ToArray();

    [Theory]
    [InlineData(new[] { 2, 3, 5 }, 3, 4)]
    [InlineData(new[] { 2, 3, 2 }, 1, 7)]
    [InlineData(new int[0], 5, 2)]
    public void Concat_matches_host_and_its_backward_matches_finite_differences(int[] leading, int c1, int c2)
    {
        int[] shapeA = [.. leading, c1], shapeB = [.. leading, c2], shapeY = [.. leading, c1 + c2];
        int rows = Rows(shapeA);
        var a = Reference.RandomNormal(rows * c1, 1);
        var b = Reference.RandomNormal(rows * c2, 2);
        using var ta = Tensor.FromHost(device, a, shapeA);
        using var tb = Tensor.FromHost(device, b, shapeB);
        using var y = Concat.LastAxis(ta, tb);
        Assert.Equal(new Shape(shapeY), y.Shape);
        Assert.Equal(0, Reference.RelativeError(y.ToFloatArray(), HostConcat(F64(a), F64(b), rows, c1, c2))); // a copy: exact

        var dy = Reference.RandomNormal(rows * (c1 + c2), 3);
        using var tdy = Tensor.FromHost(device, dy, shapeY);
        using var da = Tensor.Empty(device, DType.F32, shapeA);
        using var db = Tensor.Empty(device, DType.F32, shapeB);
        Concat.LastAxisBackward(tdy, da, db);
        var expectedA = FiniteDifference.Gradient(v => HostConcat(v, F64(b), rows, c1, c2), F64(a), F64(dy));
        var expectedB = FiniteDifference.Gradient(v => HostConcat(F64(a), v, rows, c1, c2), F64(b), F64(dy));
        Assert.True(Reference.RelativeError(da.ToFloatArray(), expectedA) <= 1e-8); // a copy vs float64 differences of a linear map
        Assert.True(Reference.RelativeError(db.ToFloatArray(), expectedB) <= 1e-8); // as above
    }

    [Theory]
    [InlineData(new[] { 2, 3 }, 8, 4, 4)] // GEGLU's second half
    [InlineData(new[] { 2, 3 }, 8, 0, 4)] // GEGLU's first half
    [InlineData(new[] { 3 }, 7, 2, 3)]
    [InlineData(new[] { 2, 2, 3 }, 5, 0, 5)]
    public void Slice_matches_host_and_its_backward_matches_finite_differences(int[] leading, int channels, int start, int length)
    {
        int[] shapeX = [.. leading, channels], shapeY = [.. leading, length];
        int rows = Rows(shapeX);
        var x = Reference.RandomNormal(rows * channels, 10 + start);
        using var tx = Tensor.FromHost(device, x, shapeX);
        using var y = Slice.LastAxis(tx, start, length);
        Assert.Equal(new Shape(shapeY), y.Shape);
        Assert.Equal(0, Reference.RelativeError(y.ToFloatArray(), HostSlice(F64(x), rows, channels, start, length))); // a copy: exact

        var dy = Reference.RandomNormal(rows * length, 20 + start);
        using var tdy = Tensor.FromHost(device, dy, shapeY);
        using var dx = Tensor.FromHost(device, Reference.RandomNormal(rows * channels, 30), shapeX); // stale contents must be cleared
        Slice.LastAxisBackward(tdy, start, dx);
        var expected = FiniteDifference.Gradient(v => HostSlice(v, rows, channels, start, length), F64(x), F64(dy));
        Assert.True(Reference.RelativeError(dx.ToFloatArray(), expected) <= 1e-8); // a copy vs float64 differences of a linear map
    }

    [Fact]
    public void Bad_arguments_are_refused_before_launch()
    {
        using var a = Tensor.FromHost(device, Reference.RandomNormal(2 * 3 * 4, 40), 2, 3, 4);
        using var b = Tensor.FromHost(device, Reference.RandomNormal(2 * 4 * 4, 41), 2, 4, 4);
        using var b16 = Tensor.FromHost(device, Reference.RandomNormal(2 * 3 * 4, 42).Select(v => (System.Half)v).ToArray(), 2, 3, 4);
        using var wrongOut = Tensor.Empty(device, DType.F32, 2, 3, 7);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Concat.LastAxis(a, b)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Concat.LastAxis(a, b16)).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => Concat.LastAxis(a, a, wrongOut)).ParamName);
        Assert.Equal("dy", Assert.Throws<ArgumentException>(() => Concat.LastAxisBackward(wrongOut, a, a)).ParamName);

        Assert.Equal("start", Assert.Throws<ArgumentException>(() => Slice.LastAxis(a, 2, 3)).ParamName);
        Assert.Equal("start", Assert.Throws<ArgumentException>(() => Slice.LastAxis(a, -1, 2)).ParamName);
        Assert.Equal("length", Assert.Throws<ArgumentException>(() => Slice.LastAxis(a, 0, 0)).ParamName);
        using var window = Tensor.Empty(device, DType.F32, 2, 4, 2);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => Slice.LastAxis(a, 0, window)).ParamName);
        Assert.Equal("dy", Assert.Throws<ArgumentException>(() => Slice.LastAxisBackward(window, 0, a)).ParamName);
        Assert.Equal("start", Assert.Throws<ArgumentException>(() => Slice.LastAxisBackward(wrongOut, 0, a)).ParamName);
    }
}
