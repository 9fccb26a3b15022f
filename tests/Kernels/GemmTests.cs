using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

/// <summary>Gemm.MatMul and Linear against float64 host references and finite differences.</summary>
public class GemmTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.Portable;

    /// <summary>(batch, M, K, N): a single element, odd sizes, and batches.</summary>
    public static TheoryData<int, int, int, int, bool, bool> MatMulCases()
    {
        var data = new TheoryData<int, int, int, int, bool, bool>();
        foreach (var (batch, m, k, n) in new[] { (1, 1, 1, 1), (1, 5, 3, 7), (1, 17, 9, 13), (3, 4, 6, 5) })
            foreach (bool transA in new[] { false, true })
                foreach (bool transB in new[] { false, true })
                    data.Add(batch, m, k, n, transA, transB);
        return data;
    }

    [Theory]
    [MemberData(nameof(MatMulCases))]
    public void MatMul_matches_float64_for_every_transpose(int batch, int m, int k, int n, bool transA, bool transB)
    {
        int[] aShape = transA ? [batch, k, m] : [batch, m, k];
        int[] bShape = transB ? [batch, n, k] : [batch, k, n];
        var a = Reference.RandomNormal(batch * m * k, 100 + m);
        var b = Reference.RandomNormal(batch * k * n, 200 + n);
        using var ta = Tensor.FromHost(device, a, aShape);
        using var tb = Tensor.FromHost(device, b, bShape);
        using var tc = Tensor.Empty(device, DType.F32, batch, m, n);
        Gemm.MatMul(ta, tb, tc, transA, transB);

        var expected = HostMatMul(ToDouble(a), aShape, transA, ToDouble(b), bShape, transB);
        double error = Reference.RelativeError(tc.ToFloatArray(), expected);
        output.WriteLine($"relative error {error:E2}");
        Assert.True(error <= 1e-5, $"relative error {error}"); // f32 forward bound
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MatMul_shares_a_matrix_or_batch_of_one_across_the_other_operands_batch(bool transB)
    {
        int batch = 3, m = 5, k = 7, n = 4;
        var a = Reference.RandomNormal(batch * m * k, 300);
        var w = Reference.RandomNormal(k * n, 301);
        int[] wShape = transB ? [n, k] : [k, n];
        var expected = HostMatMul(ToDouble(a), [batch, m, k], false, ToDouble(w), wShape, transB);

        using var ta = Tensor.FromHost(device, a, batch, m, k);
        using var tc = Tensor.Empty(device, DType.F32, batch, m, n);
        using (var tw = Tensor.FromHost(device, w, wShape))
            Gemm.MatMul(ta, tw, tc, transB: transB);
        double error2D = Reference.RelativeError(tc.ToFloatArray(), expected);
        using (var tw1 = Tensor.FromHost(device, w, [1, .. wShape]))
            Gemm.MatMul(ta, tw1, tc, transB: transB);
        double errorBatchOfOne = Reference.RelativeError(tc.ToFloatArray(), expected);
        output.WriteLine($"shared B: matrix {error2D:E2}, batch of one {errorBatchOfOne:E2}");
        Assert.True(error2D <= 1e-5, $"relative error {error2D}"); // f32 forward bound
        Assert.True(errorBatchOfOne <= 1e-5, $"relative error {errorBatchOfOne}");

        // A shared, B batched.
        var x = Reference.RandomNormal(m * k, 302);
        var bs = Reference.RandomNormal(batch * k * n, 303);
        using var tx = Tensor.FromHost(device, x, m, k);
        using var tbs = Tensor.FromHost(device, bs, batch, k, n);
        Gemm.MatMul(tx, tbs, tc);
        double errorSharedA = Reference.RelativeError(tc.ToFloatArray(), HostMatMul(ToDouble(x), [m, k], false, ToDouble(bs), [batch, k, n], false));
        output.WriteLine($"shared A: {errorSharedA:E2}");
        Assert.True(errorSharedA <= 1e-5, $"relative error {errorSharedA}"); // f32 forward bound
    }

    [Theory]
    [InlineData(1, 1, 1, 1, false)]
    [InlineData(2, 17, 9, 13, true)]
    [InlineData(3, 5, 3, 7, false)]
    public void MatMul_widens_f16_weights_exactly(int batch, int m, int k, int n, bool transB)
    {
        var a = Reference.RandomNormal(batch * m * k, 400 + k);
        var w = Reference.RandomNormal(k * n, 401 + k).Select(v => (System.Half)v).ToArray();
        int[] wShape = transB ? [n, k] : [k, n];
        using var ta = Tensor.FromHost(device, a, batch, m, k);
        using var tw = Tensor.FromHost(device, w, wShape);
        using var tc = Tensor.Empty(device, DType.F32, batch, m, n);
        Gemm.MatMul(ta, tw, tc, transB: transB);

        // The reference multiplies the F16-rounded weights in float64: widening must add no error of its own.
        var expected = HostMatMul(ToDouble(a), [batch, m, k], false, w.Select(v => (double)v).ToArray(), wShape, transB);
        double error = Reference.RelativeError(tc.ToFloatArray(), expected);
        output.WriteLine($"relative error {error:E2}");
        Assert.True(error <= 1e-5, $"relative error {error}"); // f32 accumulation bound
    }

    [Fact]
    public void MatMul_scales_by_alpha_and_accumulates_beta_times_c()
    {
        int batch = 2, m = 3, k = 5, n = 4;
        var a = Reference.RandomNormal(batch * m * k, 500);
        var b = Reference.RandomNormal(k * n, 501);
        var c0 = Reference.RandomNormal(batch * m * n, 502);
        using var ta = Tensor.FromHost(device, a, batch, m, k);
        using var tb = Tensor.FromHost(device, b, k, n);
        using var tc = Tensor.FromHost(device, c0, batch, m, n);
        Gemm.MatMul(ta, tb, tc, alpha: 0.5f, beta: -2f);

        var product = HostMatMul(ToDouble(a), [batch, m, k], false, ToDouble(b), [k, n], false);
        var expected = product.Select((p, i) => 0.5 * p - 2.0 * c0[i]).ToArray();
        double error = Reference.RelativeError(tc.ToFloatArray(), expected);
        output.WriteLine($"relative error {error:E2}");
        Assert.True(error <= 1e-5, $"relative error {error}"); // f32 forward bound
    }

    [Fact]
    public void MatMul_with_beta_zero_ignores_what_c_held()
    {
        var a = Reference.RandomNormal(6, 510);
        using var ta = Tensor.FromHost(device, a, 2, 3);
        using var tb = Tensor.FromHost(device, a, 3, 2);
        using var tc = Tensor.FromHost(device, [float.NaN, float.NaN, float.NaN, float.NaN], 2, 2);
        Gemm.MatMul(ta, tb, tc);
        Assert.All(tc.ToFloatArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void MatMul_refuses_bad_operands_naming_them()
    {
        using var a = Tensor.Zeros(device, DType.F32, 2, 4, 3);
        using var b = Tensor.Zeros(device, DType.F32, 3, 5);
        using var c = Tensor.Zeros(device, DType.F32, 2, 4, 5);
        using var bWrongK = Tensor.Zeros(device, DType.F32, 4, 5);
        using var bWrongBatch = Tensor.Zeros(device, DType.F32, 3, 3, 5);
        using var cWrong = Tensor.Zeros(device, DType.F32, 4, 5);
        using var aF16 = Tensor.Zeros(device, DType.F16, 2, 4, 3);
        using var cF16 = Tensor.Zeros(device, DType.F16, 2, 4, 5);
        using var vector = Tensor.Zeros(device, DType.F32, 3);

        var inner = Assert.Throws<ArgumentException>(() => Gemm.MatMul(a, bWrongK, c));
        Assert.Equal("b", inner.ParamName);
        Assert.Contains("[2, 4, 3]", inner.Message);
        Assert.Contains("[4, 5]", inner.Message);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Gemm.MatMul(a, b, c, transB: true)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Gemm.MatMul(a, bWrongBatch, c)).ParamName);
        var cShape = Assert.Throws<ArgumentException>(() => Gemm.MatMul(a, b, cWrong));
        Assert.Equal("c", cShape.ParamName);
        Assert.Contains("[2, 4, 5]", cShape.Message);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => Gemm.MatMul(aF16, b, c)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => Gemm.MatMul(a, b, cF16)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Gemm.MatMul(a, vector, c)).ParamName);
        using var square = Tensor.Zeros(device, DType.F32, 2, 3, 3);
        using var squareAlias = square.Reshape(2, 3, 3);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => Gemm.MatMul(square, square, squareAlias)).ParamName);
    }

    /// <summary>x shapes: rank 1, rows 1, odd sizes, and a channels-last image (a 1×1 convolution).</summary>
    public static TheoryData<int[], int, bool, bool> LinearCases() => new()
    {
        { new[] { 3 }, 1, true, false },
        { new[] { 1, 1 }, 1, false, false },
        { new[] { 5, 3 }, 7, true, false },
        { new[] { 2, 5, 9 }, 13, true, true },
        { new[] { 2, 3, 1, 4 }, 5, false, true },
    };

    [Theory]
    [MemberData(nameof(LinearCases))]
    public void Linear_forward_matches_float64(int[] xShape, int outFeatures, bool withBias, bool f16)
    {
        int inFeatures = xShape[^1], seed = xShape.Sum() * 31 + outFeatures;
        var x = Reference.RandomNormal(xShape.Aggregate(1, (p, d) => p * d), seed);
        var w = Reference.RandomNormal(outFeatures * inFeatures, seed + 1);
        var bias = Reference.RandomNormal(outFeatures, seed + 2);
        if (f16)
        {
            w = w.Select(v => (float)(System.Half)v).ToArray();
            bias = bias.Select(v => (float)(System.Half)v).ToArray();
        }
        using var tx = Tensor.FromHost(device, x, xShape);
        using var tw = f16 ? Tensor.FromHost(device, w.Select(v => (System.Half)v).ToArray(), outFeatures, inFeatures)
                           : Tensor.FromHost(device, w, outFeatures, inFeatures);
        using var tb = !withBias ? null
                     : f16 ? Tensor.FromHost(device, bias.Select(v => (System.Half)v).ToArray(), outFeatures)
                           : Tensor.FromHost(device, bias, outFeatures);
        using var y = Linear.Forward(tx, tw, tb);

        Assert.Equal(new Shape([.. xShape[..^1], outFeatures]), y.Shape);
        var expected = HostLinear(ToDouble(x), ToDouble(w), withBias ? ToDouble(bias) : null, outFeatures);
        double error = Reference.RelativeError(y.ToFloatArray(), expected);
        output.WriteLine($"relative error {error:E2}");
        Assert.True(error <= 1e-5, $"relative error {error}"); // f32 forward bound (F16 parameters compared as rounded)
    }

    [Theory]
    [InlineData(new[] { 1, 1 }, 1, false)]
    [InlineData(new[] { 5, 3 }, 7, false)]
    [InlineData(new[] { 2, 3, 4 }, 5, true)]
    public void Linear_backward_matches_finite_differences(int[] xShape, int outFeatures, bool f16Weight)
    {
        int inFeatures = xShape[^1], rows = xShape.Aggregate(1, (p, d) => p * d) / inFeatures, seed = 600 + rows + outFeatures;
        var x = Reference.RandomNormal(rows * inFeatures, seed);
        var w = Reference.RandomNormal(outFeatures * inFeatures, seed + 1);
        if (f16Weight) w = w.Select(v => (float)(System.Half)v).ToArray();
        var bias = Reference.RandomNormal(outFeatures, seed + 2);
        var dy = Reference.RandomNormal(rows * outFeatures, seed + 3);
        int[] dyShape = [.. xShape[..^1], outFeatures];
        using var tx = Tensor.FromHost(device, x, xShape);
        using var tw = f16Weight ? Tensor.FromHost(device, w.Select(v => (System.Half)v).ToArray(), outFeatures, inFeatures)
                                 : Tensor.FromHost(device, w, outFeatures, inFeatures);
        using var tdy = Tensor.FromHost(device, dy, dyShape);
        using var dx = Tensor.Empty(device, DType.F32, xShape);
        using var dw = Tensor.Empty(device, DType.F32, outFeatures, inFeatures);
        using var db = Tensor.Empty(device, DType.F32, outFeatures);
        Linear.BackwardInput(tdy, tw, dx);
        Linear.BackwardWeight(tdy, tx, dw);
        Linear.BackwardBias(tdy, db);

        double[] xd = ToDouble(x), wd = ToDouble(w), bd = ToDouble(bias), up = ToDouble(dy);
        var expectedDx = FiniteDifference.Gradient(v => HostLinear(v, wd, bd, outFeatures), xd, up);
        var expectedDw = FiniteDifference.Gradient(v => HostLinear(xd, v, bd, outFeatures), wd, up);
        var expectedDb = FiniteDifference.Gradient(v => HostLinear(xd, wd, v, outFeatures), bd, up);
        double ex = Reference.RelativeError(dx.ToFloatArray(), expectedDx);
        double ew = Reference.RelativeError(dw.ToFloatArray(), expectedDw);
        double eb = Reference.RelativeError(db.ToFloatArray(), expectedDb);
        output.WriteLine($"dx {ex:E2}, dW {ew:E2}, db {eb:E2}");
        Assert.True(ex <= 1e-4, $"dx relative error {ex}"); // backward vs finite differences bound
        Assert.True(ew <= 1e-4, $"dW relative error {ew}");
        Assert.True(eb <= 1e-4, $"db relative error {eb}");
    }

    [Fact]
    public void Linear_backward_accumulates_into_existing_gradients()
    {
        int rows = 6, inFeatures = 5, outFeatures = 3;
        var x = Reference.RandomNormal(rows * inFeatures, 700);
        var w = Reference.RandomNormal(outFeatures * inFeatures, 701);
        var dy = Reference.RandomNormal(rows * outFeatures, 702);
        var dx0 = Reference.RandomNormal(rows * inFeatures, 703);
        var dw0 = Reference.RandomNormal(outFeatures * inFeatures, 704);
        var db0 = Reference.RandomNormal(outFeatures, 705);
        using var tx = Tensor.FromHost(device, x, 2, 3, inFeatures);
        using var tw = Tensor.FromHost(device, w, outFeatures, inFeatures);
        using var tdy = Tensor.FromHost(device, dy, 2, 3, outFeatures);
        using var dx = Tensor.FromHost(device, dx0, 2, 3, inFeatures);
        using var dw = Tensor.FromHost(device, dw0, outFeatures, inFeatures);
        using var db = Tensor.FromHost(device, db0, outFeatures);
        Linear.BackwardInput(tdy, tw, dx, accumulate: true);
        Linear.BackwardWeight(tdy, tx, dw, accumulate: true);
        Linear.BackwardBias(tdy, db, accumulate: true);

        var expectedDx = new double[dx0.Length];
        var expectedDw = new double[dw0.Length];
        var expectedDb = new double[db0.Length];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outFeatures; o++)
            {
                expectedDb[o] += dy[r * outFeatures + o];
                for (int i = 0; i < inFeatures; i++)
                {
                    expectedDx[r * inFeatures + i] += (double)dy[r * outFeatures + o] * w[o * inFeatures + i];
                    expectedDw[o * inFeatures + i] += (double)dy[r * outFeatures + o] * x[r * inFeatures + i];
                }
            }
        for (int i = 0; i < dx0.Length; i++) expectedDx[i] += dx0[i];
        for (int i = 0; i < dw0.Length; i++) expectedDw[i] += dw0[i];
        for (int i = 0; i < db0.Length; i++) expectedDb[i] += db0[i];
        double ex = Reference.RelativeError(dx.ToFloatArray(), expectedDx);
        double ew = Reference.RelativeError(dw.ToFloatArray(), expectedDw);
        double eb = Reference.RelativeError(db.ToFloatArray(), expectedDb);
        output.WriteLine($"dx {ex:E2}, dW {ew:E2}, db {eb:E2}");
        Assert.True(ex <= 1e-5 && ew <= 1e-5 && eb <= 1e-5, $"dx {ex}, dW {ew}, db {eb}"); // f32 bound
    }

    [Fact]
    public void Linear_refuses_bad_operands_naming_them()
    {
        using var x = Tensor.Zeros(device, DType.F32, 2, 3, 4);
        using var w = Tensor.Zeros(device, DType.F32, 5, 4);
        using var wWrongIn = Tensor.Zeros(device, DType.F32, 5, 3);
        using var w3 = Tensor.Zeros(device, DType.F32, 1, 5, 4);
        using var wI32 = Tensor.Zeros(device, DType.I32, 5, 4);
        using var bias = Tensor.Zeros(device, DType.F32, 5);
        using var biasWrong = Tensor.Zeros(device, DType.F32, 4);
        using var biasF16 = Tensor.Zeros(device, DType.F16, 5);
        using var xF16 = Tensor.Zeros(device, DType.F16, 2, 3, 4);
        using var dy = Tensor.Zeros(device, DType.F32, 2, 3, 5);
        using var dyOtherRows = Tensor.Zeros(device, DType.F32, 3, 2, 5);
        using var dx = Tensor.Zeros(device, DType.F32, 2, 3, 4);
        using var dxFlat = Tensor.Zeros(device, DType.F32, 6, 4);
        using var dw = Tensor.Zeros(device, DType.F32, 5, 4);
        using var dwF16 = Tensor.Zeros(device, DType.F16, 5, 4);
        using var dwTransposed = Tensor.Zeros(device, DType.F32, 4, 5);
        using var dbWrong = Tensor.Zeros(device, DType.F32, 4);

        var mismatch = Assert.Throws<ArgumentException>(() => Linear.Forward(x, wWrongIn, bias));
        Assert.Equal("x", mismatch.ParamName);
        Assert.Contains("[5, 3]", mismatch.Message);
        Assert.Equal("weight", Assert.Throws<ArgumentException>(() => Linear.Forward(x, w3)).ParamName);
        Assert.Equal("weight", Assert.Throws<ArgumentException>(() => Linear.Forward(x, wI32)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Linear.Forward(xF16, w)).ParamName);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(() => Linear.Forward(x, w, biasWrong)).ParamName);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(() => Linear.Forward(x, w, biasF16)).ParamName);

        Assert.Equal("dy", Assert.Throws<ArgumentException>(() => Linear.BackwardInput(dx, w, dx)).ParamName);
        Assert.Equal("dx", Assert.Throws<ArgumentException>(() => Linear.BackwardInput(dy, w, dxFlat)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Linear.BackwardWeight(dyOtherRows, x, dw)).ParamName);
        Assert.Equal("dWeight", Assert.Throws<ArgumentException>(() => Linear.BackwardWeight(dy, x, dwF16)).ParamName);
        Assert.Equal("dWeight", Assert.Throws<ArgumentException>(() => Linear.BackwardWeight(dy, x, dwTransposed)).ParamName);
        Assert.Equal("dBias", Assert.Throws<ArgumentException>(() => Linear.BackwardBias(dy, dbWrong)).ParamName);
        using var dyAsBias = Tensor.Zeros(device, DType.F32, 5);
        using var dyAsBiasAlias = dyAsBias.Reshape(1, 5);
        Assert.Equal("dBias", Assert.Throws<ArgumentException>(() => Linear.BackwardBias(dyAsBiasAlias, dyAsBias)).ParamName);
        using var square = Tensor.Zeros(device, DType.F32, 5, 5);
        using var squareAlias = square.Reshape(5, 5);
        Assert.Equal("dx", Assert.Throws<ArgumentException>(() => Linear.BackwardInput(square, square, squareAlias)).ParamName);
    }

    private static double[] ToDouble(float[] v) => v.Select(f => (double)f).ToArray();

    /// <summary>
    /// Float64 batched op(A)·op(B): shapes are [rows, cols] or [batch, rows, cols]; a matrix or a batch of one is
    /// shared. Returns [batch, M, N] row-major.
    /// </summary>
    private static double[] HostMatMul(double[] a, int[] aShape, bool transA, double[] b, int[] bShape, bool transB)
    {
        int aBatch = aShape.Length == 3 ? aShape[0] : 1, bBatch = bShape.Length == 3 ? bShape[0] : 1;
        int aRows = aShape[^2], aCols = aShape[^1], bRows = bShape[^2], bCols = bShape[^1];
        int m = transA ? aCols : aRows, k = transA ? aRows : aCols, n = transB ? bRows : bCols;
        int batch = Math.Max(aBatch, bBatch);
        var c = new double[batch * m * n];
        for (int s = 0; s < batch; s++)
        {
            int aBase = (aBatch == 1 ? 0 : s) * aRows * aCols, bBase = (bBatch == 1 ? 0 : s) * bRows * bCols;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double sum = 0;
                    for (int p = 0; p < k; p++)
                    {
                        double av = transA ? a[aBase + p * aCols + i] : a[aBase + i * aCols + p];
                        double bv = transB ? b[bBase + j * bCols + p] : b[bBase + p * bCols + j];
                        sum += av * bv;
                    }
                    c[(s * m + i) * n + j] = sum;
                }
        }
        return c;
    }

    /// <summary>Float64 y[r, o] = Σ_i x[r, i]·w[o, i] + bias[o], x flattened to rows of w's in-features.</summary>
    private static double[] HostLinear(double[] x, double[] w, double[]? bias, int outFeatures)
    {
        int inFeatures = w.Length / outFeatures, rows = x.Length / inFeatures;
        var y = new double[rows * outFeatures];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outFeatures; o++)
            {
                double sum = bias?[o] ?? 0;
                for (int i = 0; i < inFeatures; i++) sum += x[r * inFeatures + i] * w[o * inFeatures + i];
                y[r * outFeatures + o] = sum;
            }
        return y;
    }
}
