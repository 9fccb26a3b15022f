using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

public class BroadcastTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.Portable;

    public static TheoryData<bool, bool, int[]> Cases()
    {
        var data = new TheoryData<bool, bool, int[]>();
        foreach (bool multiply in new[] { false, true })
        {
            foreach (var shape in new[] { new[] { 5 }, new[] { 3, 7 }, new[] { 2, 3, 4, 5 } })
                data.Add(multiply, false, shape);
            foreach (var shape in new[] { new[] { 2, 3 }, new[] { 3, 5, 7 }, new[] { 2, 3, 1, 4 } })
                data.Add(multiply, true, shape);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_matches_float64(bool multiply, bool perSample, int[] shape)
    {
        var (x, v, vShape) = Inputs(shape, perSample, 10);
        using var tx = Tensor.FromHost(device, x, shape);
        using var tv = Tensor.FromHost(device, v, vShape);
        using var ty = Tensor.Empty(device, DType.F32, shape);
        Forward(multiply, perSample, tx, tv, ty);
        var expected = Host(multiply, D(x), D(v), shape, perSample);
        double error = Reference.RelativeError(ty.ToFloatArray(), expected);
        output.WriteLine($"{Name(multiply, perSample)} {Show(shape)}: rel error {error:E3}");
        Assert.True(error <= 1e-7, $"rel error {error}");   // one correctly rounded f32 op per element

        Forward(multiply, perSample, tx, tv, tx);           // in place
        Assert.Equal(ty.ToFloatArray(), tx.ToFloatArray());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_matches_finite_differences(bool multiply, bool perSample, int[] shape)
    {
        var (x, v, vShape) = Inputs(shape, perSample, 20);
        var dy = Reference.RandomNormal(x.Length, 30 + x.Length);
        using var tx = Tensor.FromHost(device, x, shape);
        using var tv = Tensor.FromHost(device, v, vShape);
        using var tdy = Tensor.FromHost(device, dy, shape);
        using var tdx = Tensor.Empty(device, DType.F32, shape);
        using var tdv = Tensor.Empty(device, DType.F32, vShape);
        var expectedDx = FiniteDifference.Gradient(xx => Host(multiply, xx, D(v), shape, perSample), D(x), D(dy));
        var expectedDv = FiniteDifference.Gradient(vv => Host(multiply, D(x), vv, shape, perSample), D(v), D(dy));
        if (multiply)
        {
            if (perSample) Broadcast.MulPerSampleBackward(tx, tv, tdy, tdx, tdv);
            else Broadcast.MulLastDimBackward(tx, tv, tdy, tdx, tdv);
        }
        else
        {
            if (perSample) Broadcast.AddPerSampleBackward(tdy, tdv);
            else Broadcast.AddLastDimBackward(tdy, tdv);
            Elementwise.Scale(tdy, 1f, tdx);                // the x gradient of an add is gradOutput itself
        }
        double errorX = Reference.RelativeError(tdx.ToFloatArray(), expectedDx);
        double errorV = Reference.RelativeError(tdv.ToFloatArray(), expectedDv);
        output.WriteLine($"{Name(multiply, perSample)} backward {Show(shape)}: rel error dx {errorX:E3}, d operand {errorV:E3}");
        // f32 products and compensated sums against float64 central differences of a linear map: 1e-6.
        Assert.True(errorX <= 1e-6, $"dx rel error {errorX}");
        Assert.True(errorV <= 1e-6, $"d operand rel error {errorV}");
    }

    [Fact]
    public void Mul_backward_may_overwrite_the_upstream_gradient_in_place()
    {
        int[] shape = [3, 4, 5];
        var (x, v, vShape) = Inputs(shape, perSample: true, 40);
        var dy = Reference.RandomNormal(x.Length, 41);
        using var tx = Tensor.FromHost(device, x, shape);
        using var tv = Tensor.FromHost(device, v, vShape);
        using var tdy = Tensor.FromHost(device, dy, shape);
        using var tdv = Tensor.Empty(device, DType.F32, vShape);
        Broadcast.MulPerSampleBackward(tx, tv, tdy, tdy, tdv);
        var expectedDv = FiniteDifference.Gradient(vv => Host(true, D(x), vv, shape, true), D(v), D(dy));
        Assert.True(Reference.RelativeError(tdv.ToFloatArray(), expectedDv) <= 1e-6);
        Assert.True(Reference.RelativeError(tdy.ToFloatArray(), Host(true, D(dy), D(v), shape, true)) <= 1e-7);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(13)]
    [InlineData(300)]
    public void Same_shape_mul_its_backward_and_accumulate_match_float64(int n)
    {
        var a = Reference.RandomNormal(n, 50 + n);
        var b = Reference.RandomNormal(n, 60 + n);
        var dy = Reference.RandomNormal(n, 70 + n);
        using var ta = Tensor.FromHost(device, a, n);
        using var tb = Tensor.FromHost(device, b, n);
        using var tdy = Tensor.FromHost(device, dy, n);
        using var ty = Tensor.Empty(device, DType.F32, n);
        using var tda = Tensor.Empty(device, DType.F32, n);
        using var tdb = Tensor.Empty(device, DType.F32, n);
        Elementwise.Mul(ta, tb, ty);
        Assert.True(Reference.RelativeError(ty.ToFloatArray(), a.Select((v, i) => (double)v * b[i]).ToArray()) <= 1e-7);

        Elementwise.MulBackward(ta, tb, tdy, tda, tdb);
        var product = (double[] aa, double[] bb) => aa.Select((v, i) => v * bb[i]).ToArray();
        var expectedDa = FiniteDifference.Gradient(aa => product(aa, D(b)), D(a), D(dy));
        var expectedDb = FiniteDifference.Gradient(bb => product(D(a), bb), D(b), D(dy));
        double ea = Reference.RelativeError(tda.ToFloatArray(), expectedDa), eb = Reference.RelativeError(tdb.ToFloatArray(), expectedDb);
        output.WriteLine($"Mul backward [{n}]: rel error da {ea:E3}, db {eb:E3}");
        Assert.True(ea <= 1e-6 && eb <= 1e-6, $"{ea} {eb}");    // one f32 product vs central differences

        Elementwise.Accumulate(ty, ta);
        Assert.True(Reference.RelativeError(ty.ToFloatArray(), a.Select((v, i) => (double)(v * b[i]) + v).ToArray()) <= 1e-7);
    }

    [Fact]
    public void Bad_operands_are_refused_naming_the_argument()
    {
        using var x = Tensor.Zeros(device, DType.F32, 2, 3, 4);
        using var c4 = Tensor.Zeros(device, DType.F32, 4);
        using var c3 = Tensor.Zeros(device, DType.F32, 3);
        using var n2c4 = Tensor.Zeros(device, DType.F32, 2, 4);
        using var n3c4 = Tensor.Zeros(device, DType.F32, 3, 4);
        using var vector = Tensor.Zeros(device, DType.F32, 4);
        using var other = Tensor.Zeros(device, DType.F32, 2, 3, 5);
        using var f16 = Tensor.Zeros(device, DType.F16, 4);
        Assert.Equal("vector", Assert.Throws<ArgumentException>(() => Broadcast.AddLastDim(x, c3, x)).ParamName);
        Assert.Equal("vector", Assert.Throws<ArgumentException>(() => Broadcast.MulLastDim(x, f16, x)).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => Broadcast.AddLastDim(x, c4, other)).ParamName);
        Assert.Equal("perSample", Assert.Throws<ArgumentException>(() => Broadcast.AddPerSample(x, n3c4, x)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Broadcast.MulPerSample(vector, n2c4, vector)).ParamName);
        Assert.Equal("gradVector", Assert.Throws<ArgumentException>(() => Broadcast.AddLastDimBackward(x, c3)).ParamName);
        Assert.Equal("gradPerSample", Assert.Throws<ArgumentException>(() => Broadcast.AddPerSampleBackward(x, c4)).ParamName);
        Assert.Equal("gradOutput", Assert.Throws<ArgumentException>(() => Broadcast.MulLastDimBackward(x, c4, other, null, c4)).ParamName);
        Assert.Equal("gradX", Assert.Throws<ArgumentException>(() => Broadcast.MulLastDimBackward(x, c4, x, other, null)).ParamName);
        Assert.Equal("gradPerSample", Assert.Throws<ArgumentException>(() => Broadcast.MulPerSampleBackward(x, n2c4, x, null, n3c4)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Elementwise.Mul(x, other, x)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Elementwise.Accumulate(x, other)).ParamName);
        Assert.Equal("gradA", Assert.Throws<ArgumentException>(() => Elementwise.MulBackward(x, x, x, x, x)).ParamName);
    }

    private static void Forward(bool multiply, bool perSample, Tensor x, Tensor v, Tensor y)
    {
        if (perSample)
        {
            if (multiply) Broadcast.MulPerSample(x, v, y);
            else Broadcast.AddPerSample(x, v, y);
        }
        else
        {
            if (multiply) Broadcast.MulLastDim(x, v, y);
            else Broadcast.AddLastDim(x, v, y);
        }
    }

    private static (float[] X, float[] V, int[] VShape) Inputs(int[] shape, bool perSample, int seed)
    {
        int n = shape.Aggregate(1, (a, b) => a * b), c = shape[^1];
        int[] vShape = perSample ? [shape[0], c] : [c];
        return (Reference.RandomNormal(n, seed + n), Reference.RandomNormal(vShape.Aggregate(1, (a, b) => a * b), seed + 1 + n), vShape);
    }

    /// <summary>The broadcast op in float64 by explicit index arithmetic: operand[n, c] or operand[c].</summary>
    private static double[] Host(bool multiply, double[] x, double[] v, int[] shape, bool perSample)
    {
        int c = shape[^1], sampleSize = x.Length / shape[0];
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double operand = perSample ? v[i / sampleSize * c + i % c] : v[i % c];
            y[i] = multiply ? x[i] * operand : x[i] + operand;
        }
        return y;
    }

    private static string Name(bool multiply, bool perSample) => (multiply ? "Mul" : "Add") + (perSample ? "PerSample" : "LastDim");

    private static double[] D(float[] x) => x.Select(v => (double)v).ToArray();

    private static string Show(int[] shape) => $"[{string.Join(", ", shape)}]";
}
