using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

public class Conv2dTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.Portable;

    /// <summary>One conv configuration: input [N, H, W, Cin], weight [Cout, Kh, Kw, Cin], and its strides/padding.</summary>
    public sealed record Case(int N, int H, int W, int Cin, int Cout, int Kh, int Kw, Conv2dParams P)
    {
        public int Hout => P.OutputHeight(H, Kh);

        public int Wout => P.OutputWidth(W, Kw);

        public int[] XShape => [N, H, W, Cin];

        public int[] WShape => [Cout, Kh, Kw, Cin];

        public int[] YShape => [N, Hout, Wout, Cout];

        public int WCount => Cout * Kh * Kw * Cin;
    }

    private static readonly Dictionary<string, Case> cases = new()
    {
        ["3x3 s1 p1"] = new Case(2, 5, 6, 3, 4, 3, 3, Conv2dParams.Symmetric(1, 1)),
        ["3x3 s2 p1"] = new Case(2, 7, 6, 3, 4, 3, 3, Conv2dParams.Symmetric(2, 1)),
        ["3x3 s2 pad (0,1,0,1)"] = new Case(2, 6, 7, 3, 2, 3, 3, new Conv2dParams(2, 2, 0, 1, 0, 1)),
        ["1x1"] = new Case(2, 3, 5, 5, 4, 1, 1, Conv2dParams.Symmetric(1, 0)),
        ["2x3 stride (1,2) pad (1,0,2,1)"] = new Case(1, 4, 5, 2, 3, 2, 3, new Conv2dParams(1, 2, 1, 0, 2, 1)),
    };

    public static TheoryData<string> Cases => new(cases.Keys);

    /// <summary>The float64 reference: y[n,oh,ow,co] = b[co] + Σ x[n, oh·s − padTop + ky, ow·s − padLeft + kx, ci] · w[co,ky,kx,ci].</summary>
    private static double[] HostConv(Case c, double[] x, double[] w, double[]? b)
    {
        var y = new double[c.N * c.Hout * c.Wout * c.Cout];
        for (int n = 0; n < c.N; n++)
            for (int oh = 0; oh < c.Hout; oh++)
                for (int ow = 0; ow < c.Wout; ow++)
                    for (int co = 0; co < c.Cout; co++)
                    {
                        double s = b?[co] ?? 0;
                        for (int ky = 0; ky < c.Kh; ky++)
                            for (int kx = 0; kx < c.Kw; kx++)
                            {
                                int ih = oh * c.P.StrideH - c.P.PadTop + ky, iw = ow * c.P.StrideW - c.P.PadLeft + kx;
                                if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;
                                for (int ci = 0; ci < c.Cin; ci++)
                                    s += x[((n * c.H + ih) * c.W + iw) * c.Cin + ci] * w[((co * c.Kh + ky) * c.Kw + kx) * c.Cin + ci];
                            }
                        y[((n * c.Hout + oh) * c.Wout + ow) * c.Cout + co] = s;
                    }
        return y;
    }

    private static double[] F64(float[] v) => v.Select(e => (double)e).ToArray();

    private static Tensor Upload(Device device, float[] values, bool f16, params int[] shape) =>
        f16 ? Tensor.FromHost(device, values.Select(v => (System.Half)v).ToArray(), shape) : Tensor.FromHost(device, values, shape);

    /// <summary>The values the kernel sees: F16 storage rounds them once.</summary>
    private static float[] Stored(float[] values, bool f16) => f16 ? values.Select(v => (float)(System.Half)v).ToArray() : values;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_matches_float64_for_f32_and_f16_weights(string name)
    {
        var c = cases[name];
        var x = Reference.RandomNormal(c.XShape.Aggregate(1, (a, d) => a * d), 1);
        var w = Reference.RandomNormal(c.WCount, 2);
        var b = Reference.RandomNormal(c.Cout, 3);
        using var tx = Tensor.FromHost(device, x, c.XShape);
        foreach (bool f16 in new[] { false, true })
        {
            using var tw = Upload(device, w, f16, c.WShape);
            using var tb = Upload(device, b, f16, c.Cout);
            using var y = Conv2d.Forward(tx, tw, tb, c.P);
            Assert.Equal(new Shape(c.YShape), y.Shape);
            double err = Reference.RelativeError(y.ToFloatArray(), HostConv(c, F64(x), F64(Stored(w, f16)), F64(Stored(b, f16))));
            output.WriteLine($"{name} f16={f16}: forward rel err {err:E2}");
            Assert.True(err <= 1e-5, $"{name} f16={f16}: {err}"); // fp32 accumulation of ≤ 27 products

            using var noBias = Conv2d.Forward(tx, tw, null, c.P);
            double errNoBias = Reference.RelativeError(noBias.ToFloatArray(), HostConv(c, F64(x), F64(Stored(w, f16)), null));
            Assert.True(errNoBias <= 1e-5, $"{name} f16={f16} without bias: {errNoBias}"); // as above
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_matches_finite_differences(string name)
    {
        var c = cases[name];
        var x = F64(Reference.RandomNormal(c.XShape.Aggregate(1, (a, d) => a * d), 11));
        var w = F64(Reference.RandomNormal(c.WCount, 12));
        var b = F64(Reference.RandomNormal(c.Cout, 13));
        var dyHost = Reference.RandomNormal(c.YShape.Aggregate(1, (a, d) => a * d), 14);
        var dy = F64(dyHost);
        var f32 = (double[] v) => v.Select(e => (float)e).ToArray();
        using var tx = Tensor.FromHost(device, f32(x), c.XShape);
        using var tw = Tensor.FromHost(device, f32(w), c.WShape);
        using var tdy = Tensor.FromHost(device, dyHost, c.YShape);

        using var dx = Tensor.Empty(device, DType.F32, c.XShape);
        Conv2d.BackwardInput(tdy, tw, c.P, dx);
        double errX = Reference.RelativeError(dx.ToFloatArray(), FiniteDifference.Gradient(v => HostConv(c, v, w, b), x, dy));

        using var dw = Tensor.Empty(device, DType.F32, c.WShape);
        Conv2d.BackwardWeight(tx, tdy, c.P, dw, accumulate: false);
        double errW = Reference.RelativeError(dw.ToFloatArray(), FiniteDifference.Gradient(v => HostConv(c, x, v, b), w, dy));

        using var db = Tensor.Empty(device, DType.F32, c.Cout);
        Conv2d.BackwardBias(tdy, db, accumulate: false);
        double errB = Reference.RelativeError(db.ToFloatArray(), FiniteDifference.Gradient(v => HostConv(c, x, w, v), b, dy));

        output.WriteLine($"{name}: dx {errX:E2}, dw {errW:E2}, db {errB:E2}");
        Assert.True(errX <= 1e-4, $"{name} dx: {errX}"); // central differences of a linear map in float64, fp32 kernel
        Assert.True(errW <= 1e-4, $"{name} dw: {errW}"); // as above
        Assert.True(errB <= 1e-4, $"{name} db: {errB}"); // as above
    }

    [Fact]
    public void Weight_and_bias_gradients_accumulate_when_asked_and_f16_frozen_weights_give_dx()
    {
        var c = new Case(2, 5, 5, 3, 4, 3, 3, Conv2dParams.Symmetric(2, 1));
        var x = Reference.RandomNormal(c.XShape.Aggregate(1, (a, d) => a * d), 21);
        var w = Reference.RandomNormal(c.WCount, 22);
        var dyHost = Reference.RandomNormal(c.YShape.Aggregate(1, (a, d) => a * d), 23);
        var previousW = Reference.RandomNormal(c.WCount, 24);
        var previousB = Reference.RandomNormal(c.Cout, 25);
        using var tx = Tensor.FromHost(device, x, c.XShape);
        using var tdy = Tensor.FromHost(device, dyHost, c.YShape);

        using var fresh = Tensor.Empty(device, DType.F32, c.WShape);
        Conv2d.BackwardWeight(tx, tdy, c.P, fresh, accumulate: false);
        using var summed = Tensor.FromHost(device, previousW, c.WShape);
        Conv2d.BackwardWeight(tx, tdy, c.P, summed, accumulate: true);
        var expectedW = fresh.ToFloatArray().Select((g, i) => (double)g + previousW[i]).ToArray();
        Assert.True(Reference.RelativeError(summed.ToFloatArray(), expectedW) <= 1e-6); // one fp32 add per element

        using var freshB = Tensor.Empty(device, DType.F32, c.Cout);
        Conv2d.BackwardBias(tdy, freshB, accumulate: false);
        using var summedB = Tensor.FromHost(device, previousB, c.Cout);
        Conv2d.BackwardBias(tdy, summedB, accumulate: true);
        var expectedB = freshB.ToFloatArray().Select((g, i) => (double)g + previousB[i]).ToArray();
        Assert.True(Reference.RelativeError(summedB.ToFloatArray(), expectedB) <= 1e-6); // one fp32 add per element

        // A frozen F16 weight: dx only, against the gradient of the host conv on the F16-rounded weights.
        using var tw16 = Upload(device, w, f16: true, c.WShape);
        using var dx = Tensor.Empty(device, DType.F32, c.XShape);
        Conv2d.BackwardInput(tdy, tw16, c.P, dx);
        var w16 = F64(Stored(w, f16: true));
        var expectedX = FiniteDifference.Gradient(v => HostConv(c, v, w16, null), F64(x), F64(dyHost));
        double err = Reference.RelativeError(dx.ToFloatArray(), expectedX);
        output.WriteLine($"f16 frozen-weight dx rel err {err:E2}");
        Assert.True(err <= 1e-4, $"f16 dx: {err}"); // finite differences in float64, fp32 kernel
    }

    [Fact]
    public void RepackWeight_turns_pytorch_oihw_into_ohwi()
    {
        int cout = 3, cin = 2, kh = 3, kw = 2;
        var oihw = Reference.RandomNormal(cout * cin * kh * kw, 31);
        var expected = new float[oihw.Length];
        for (int o = 0; o < cout; o++)
            for (int i = 0; i < cin; i++)
                for (int y = 0; y < kh; y++)
                    for (int x = 0; x < kw; x++)
                        expected[((o * kh + y) * kw + x) * cin + i] = oihw[((o * cin + i) * kh + y) * kw + x];
        using var t = Tensor.FromHost(device, oihw, cout, cin, kh, kw);
        using var packed = Conv2d.RepackWeight(t);
        Assert.Equal(new Shape(cout, kh, kw, cin), packed.Shape);
        Assert.Equal(expected, packed.ToFloatArray());
    }

    [Fact]
    public void Bad_arguments_are_refused_before_launch()
    {
        var p = Conv2dParams.Symmetric(1, 1);
        using var x = Tensor.FromHost(device, Reference.RandomNormal(2 * 5 * 5 * 3, 41), 2, 5, 5, 3);
        using var w = Tensor.FromHost(device, Reference.RandomNormal(4 * 3 * 3 * 3, 42), 4, 3, 3, 3);
        using var wrongCin = Tensor.FromHost(device, Reference.RandomNormal(4 * 3 * 3 * 2, 43), 4, 3, 3, 2);
        using var wrongOut = Tensor.Empty(device, DType.F32, 2, 4, 5, 4);
        using var rightOut = Tensor.Empty(device, DType.F32, 2, 5, 5, 4);
        using var bias5 = Tensor.FromHost(device, Reference.RandomNormal(5, 44), 5);
        using var bias16 = Tensor.FromHost(device, Reference.RandomNormal(4, 45).Select(v => (System.Half)v).ToArray(), 4);
        using var x16 = Tensor.FromHost(device, Reference.RandomNormal(2 * 5 * 5 * 3, 46).Select(v => (System.Half)v).ToArray(), 2, 5, 5, 3);
        using var ids = Tensor.FromHost(device, Enumerable.Range(0, 4 * 3 * 3 * 3).ToArray(), 4, 3, 3, 3);
        using var tiny = Tensor.FromHost(device, Reference.RandomNormal(2 * 2 * 2 * 3, 47), 2, 2, 2, 3);

        Assert.Equal("weight", Assert.Throws<ArgumentException>(() => Conv2d.Forward(x, wrongCin, null, p)).ParamName);
        Assert.Equal("weight", Assert.Throws<ArgumentException>(() => Conv2d.Forward(x, ids, null, p)).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => Conv2d.Forward(x, w, null, p, wrongOut)).ParamName);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(() => Conv2d.Forward(x, w, bias5, p, rightOut)).ParamName);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(() => Conv2d.Forward(x, w, bias16, p, rightOut)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Conv2d.Forward(x16, w, null, p, rightOut)).ParamName);
        var small = Assert.Throws<ArgumentException>(() => Conv2d.Forward(tiny, w, null, Conv2dParams.Symmetric(1, 0)));
        Assert.Equal("x", small.ParamName);
        Assert.Contains("smaller than the 3×3 kernel", small.Message);
        Assert.Equal("parameters", Assert.Throws<ArgumentException>(() => Conv2d.Forward(x, w, null, Conv2dParams.Symmetric(0, 1))).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentException>(() => Conv2d.Forward(x, w, null, new Conv2dParams(1, 1, -1, 0, 0, 0))).ParamName);

        using var dx = Tensor.Empty(device, DType.F32, 2, 5, 5, 3);
        using var dxWrong = Tensor.Empty(device, DType.F32, 2, 6, 5, 3);
        using var dw = Tensor.Empty(device, DType.F32, 4, 3, 3, 3);
        using var dw16 = Tensor.Empty(device, DType.F16, 4, 3, 3, 3);
        using var db = Tensor.Empty(device, DType.F32, 3);
        Assert.Equal("dy", Assert.Throws<ArgumentException>(() => Conv2d.BackwardInput(wrongOut, w, p, dx)).ParamName);
        Assert.Equal("dy", Assert.Throws<ArgumentException>(() => Conv2d.BackwardInput(rightOut, w, p, dxWrong)).ParamName);
        Assert.Equal("weight", Assert.Throws<ArgumentException>(() => Conv2d.BackwardInput(rightOut, wrongCin, p, dx)).ParamName);
        Assert.Equal("dw", Assert.Throws<ArgumentException>(() => Conv2d.BackwardWeight(x, rightOut, p, dw16, false)).ParamName);
        Assert.Equal("dy", Assert.Throws<ArgumentException>(() => Conv2d.BackwardWeight(x, wrongOut, p, dw, false)).ParamName);
        Assert.Equal("db", Assert.Throws<ArgumentException>(() => Conv2d.BackwardBias(rightOut, db, false)).ParamName);
    }
}
