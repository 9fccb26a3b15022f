using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

/// <summary>
/// GroupNorm and LayerNorm against float64 host references written here: forwards (output, mean, rstd) on random
/// inputs with a nonzero mean and per-channel scale, backwards against central finite differences of those references.
/// </summary>
public class NormTests(ITestOutputHelper output)
{
    private const float Eps = 1e-5f;
    private readonly Device device = Devices.Portable;

    // Shapes: odd C, G = 1, G = C, N = 2, a token tensor [N, L, C], and more than one 32-position chunk (S = 35, 40).
    public static TheoryData<int[], int, bool> GroupNormCases => new()
    {
        { new[] { 2, 3, 5, 6 }, 3, false },
        { new[] { 2, 3, 5, 6 }, 3, true },
        { new[] { 1, 4, 4, 5 }, 1, false },
        { new[] { 2, 2, 3, 5 }, 5, true },
        { new[] { 2, 5, 7, 4 }, 2, true },
        { new[] { 2, 40, 3 }, 1, false },
    };

    [Theory]
    [MemberData(nameof(GroupNormCases))]
    public void GroupNorm_forward_matches_float64(int[] shape, int groups, bool silu)
    {
        var (x, gamma, beta) = Inputs(shape, seed: shape.Sum() + groups);
        using var tx = Tensor.FromHost(device, x, shape);
        using var tg = Tensor.FromHost(device, gamma, gamma.Length);
        using var tb = Tensor.FromHost(device, beta, beta.Length);
        using var result = GroupNorm.Forward(tx, tg, tb, groups, Eps, silu);

        var (y, mean, rstd) = GroupNormReference(D(x), D(gamma), D(beta), shape, groups, silu);
        Assert.Equal(new Shape(shape), result.Output.Shape);
        Assert.Equal(new Shape(shape[0], groups), result.Mean.Shape);
        AssertForward(result, y, mean, rstd);
    }

    [Theory]
    [MemberData(nameof(GroupNormCases))]
    public void GroupNorm_backward_matches_finite_differences(int[] shape, int groups, bool silu)
    {
        var (x, gamma, beta) = Inputs(shape, seed: 100 + shape.Sum() + groups);
        var dy = Reference.RandomNormal(x.Length, 200 + x.Length);
        using var tx = Tensor.FromHost(device, x, shape);
        using var tg = Tensor.FromHost(device, gamma, gamma.Length);
        using var tb = Tensor.FromHost(device, beta, beta.Length);
        using var tdy = Tensor.FromHost(device, dy, shape);
        using var fwd = GroupNorm.Forward(tx, tg, tb, groups, Eps, silu);
        using var grads = GroupNorm.Backward(tdy, tx, tg, tb, fwd.Mean, fwd.Rstd, groups, silu);

        double[] xd = D(x), gd = D(gamma), bd = D(beta), dyd = D(dy);
        var dx = FiniteDifference.Gradient(v => GroupNormReference(v, gd, bd, shape, groups, silu).Y, xd, dyd);
        var dg = FiniteDifference.Gradient(v => GroupNormReference(xd, v, bd, shape, groups, silu).Y, gd, dyd);
        var db = FiniteDifference.Gradient(v => GroupNormReference(xd, gd, v, shape, groups, silu).Y, bd, dyd);
        AssertGradients(grads, dx, dg, db);

        // Frozen γ, β: only dx, bit-identical to the full backward's (and the kernels are deterministic).
        using var frozen = GroupNorm.Backward(tdy, tx, tg, tb, fwd.Mean, fwd.Rstd, groups, silu, affineGradients: false);
        Assert.Null(frozen.DGamma);
        Assert.Null(frozen.DBeta);
        Assert.Equal(grads.Dx.ToFloatArray(), frozen.Dx.ToFloatArray());
    }

    [Fact]
    public void GroupNorm_statistics_stay_accurate_with_a_large_mean()
    {
        // Mean 100 × the spread: E[x²] − E[x]² in f32 would lose most digits; two passes over shifted chunks must not.
        // The floor is the f32 mean itself: half an ulp of 20 over a spread of 0.2 is 2.4e-6 in y.
        int[] shape = [2, 6, 7, 8];
        var x = Reference.RandomNormal(2 * 6 * 7 * 8, 77).Select(v => 20f + 0.2f * v).ToArray();
        var (_, gamma, beta) = Inputs(shape, seed: 78);
        using var tx = Tensor.FromHost(device, x, shape);
        using var tg = Tensor.FromHost(device, gamma, gamma.Length);
        using var tb = Tensor.FromHost(device, beta, beta.Length);
        using var result = GroupNorm.Forward(tx, tg, tb, 4, Eps);
        var (y, mean, rstd) = GroupNormReference(D(x), D(gamma), D(beta), shape, 4, silu: false);
        AssertForward(result, y, mean, rstd);
    }

    // Shapes: one row, odd C, rank 3, and 39 rows (more than one 32-row chunk for dγ, dβ).
    [Theory]
    [InlineData(new[] { 7 })]
    [InlineData(new[] { 3, 7 })]
    [InlineData(new[] { 2, 3, 5 })]
    [InlineData(new[] { 3, 13, 5 })]
    public void LayerNorm_forward_and_backward_match_float64(int[] shape)
    {
        var (x, gamma, beta) = Inputs(shape, seed: 300 + shape.Sum());
        var dy = Reference.RandomNormal(x.Length, 400 + x.Length);
        using var tx = Tensor.FromHost(device, x, shape);
        using var tg = Tensor.FromHost(device, gamma, gamma.Length);
        using var tb = Tensor.FromHost(device, beta, beta.Length);
        using var tdy = Tensor.FromHost(device, dy, shape);
        using var fwd = LayerNorm.Forward(tx, tg, tb, Eps);

        double[] xd = D(x), gd = D(gamma), bd = D(beta), dyd = D(dy);
        var (y, mean, rstd) = LayerNormReference(xd, gd, bd);
        Assert.Equal(new Shape(shape.Length == 1 ? [1] : shape[..^1]), fwd.Mean.Shape);
        AssertForward(fwd, y, mean, rstd);

        using var grads = LayerNorm.Backward(tdy, tx, tg, tb, fwd.Mean, fwd.Rstd);
        var dx = FiniteDifference.Gradient(v => LayerNormReference(v, gd, bd).Y, xd, dyd);
        var dg = FiniteDifference.Gradient(v => LayerNormReference(xd, v, bd).Y, gd, dyd);
        var db = FiniteDifference.Gradient(v => LayerNormReference(xd, gd, v).Y, bd, dyd);
        AssertGradients(grads, dx, dg, db);

        using var frozen = LayerNorm.Backward(tdy, tx, tg, tb, fwd.Mean, fwd.Rstd, affineGradients: false);
        Assert.Null(frozen.DGamma);
        Assert.Equal(grads.Dx.ToFloatArray(), frozen.Dx.ToFloatArray());
    }

    [Fact]
    public void Bad_shapes_and_dtypes_are_refused_naming_the_argument()
    {
        using var x = Tensor.FromHost(device, Reference.RandomNormal(2 * 3 * 6, 1), 2, 3, 6);
        using var g6 = Tensor.FromHost(device, Reference.RandomNormal(6, 2), 6);
        using var g5 = Tensor.FromHost(device, Reference.RandomNormal(5, 3), 5);
        using var h6 = Tensor.FromHost(device, Reference.RandomNormal(6, 4).Select(v => (System.Half)v).ToArray(), 6);
        using var row = Tensor.FromHost(device, Reference.RandomNormal(6, 5), 6);
        using var stats3 = Tensor.FromHost(device, Reference.RandomNormal(6, 6), 2, 3);

        Assert.Equal("groups", Assert.Throws<ArgumentException>(() => GroupNorm.Forward(x, g6, g6, 4, Eps)).ParamName);
        Assert.Equal("groups", Assert.Throws<ArgumentException>(() => GroupNorm.Forward(x, g6, g6, 0, Eps)).ParamName);
        Assert.Equal("gamma", Assert.Throws<ArgumentException>(() => GroupNorm.Forward(x, g5, g6, 3, Eps)).ParamName);
        Assert.Equal("beta", Assert.Throws<ArgumentException>(() => GroupNorm.Forward(x, g6, h6, 3, Eps)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => GroupNorm.Forward(row, g6, g6, 3, Eps)).ParamName);
        Assert.Equal("eps", Assert.Throws<ArgumentException>(() => GroupNorm.Forward(x, g6, g6, 3, -1f)).ParamName);
        Assert.Equal("gamma", Assert.Throws<ArgumentException>(() => LayerNorm.Forward(x, g5, g6, Eps)).ParamName);
        Assert.Equal("eps", Assert.Throws<ArgumentException>(() => LayerNorm.Forward(x, g6, g6, float.NaN)).ParamName);

        using var fwd = GroupNorm.Forward(x, g6, g6, 3, Eps);
        Assert.Equal("dy", Assert.Throws<ArgumentException>(() => GroupNorm.Backward(row, x, g6, g6, fwd.Mean, fwd.Rstd, 3)).ParamName);
        Assert.Equal("mean", Assert.Throws<ArgumentException>(() => GroupNorm.Backward(x, x, g6, g6, g6, fwd.Rstd, 3)).ParamName);
        Assert.Equal("groups", Assert.Throws<ArgumentException>(() => GroupNorm.Backward(x, x, g6, g6, fwd.Mean, fwd.Rstd, 5)).ParamName);
        Assert.Equal("rstd", Assert.Throws<ArgumentException>(() => LayerNorm.Backward(x, x, g6, g6, stats3, g6)).ParamName);
    }

    private void AssertForward(NormOutput result, double[] y, double[] mean, double[] rstd)
    {
        double ey = Reference.RelativeError(result.Output.ToFloatArray(), y);
        double em = Reference.RelativeError(result.Mean.ToFloatArray(), mean);
        double er = Reference.RelativeError(result.Rstd.ToFloatArray(), rstd);
        output.WriteLine($"forward relative errors: y {ey:E2}, mean {em:E2}, rstd {er:E2}");
        Assert.True(ey <= 1e-5, $"y relative error {ey}");   // f32 forward bound
        Assert.True(em <= 1e-5, $"mean relative error {em}");
        Assert.True(er <= 1e-5, $"rstd relative error {er}");
    }

    private void AssertGradients(NormGradients grads, double[] dx, double[] dg, double[] db)
    {
        double ex = Reference.RelativeError(grads.Dx.ToFloatArray(), dx);
        double eg = Reference.RelativeError(grads.DGamma!.ToFloatArray(), dg);
        double eb = Reference.RelativeError(grads.DBeta!.ToFloatArray(), db);
        output.WriteLine($"backward relative errors: dx {ex:E2}, dgamma {eg:E2}, dbeta {eb:E2}");
        Assert.True(ex <= 1e-4, $"dx relative error {ex}");   // backward bound vs float64 finite differences
        Assert.True(eg <= 1e-4, $"dgamma relative error {eg}");
        Assert.True(eb <= 1e-4, $"dbeta relative error {eb}");
    }

    /// <summary>x = 3 + s_c·z with a per-channel scale s_c in [0.5, 2.5]; γ around 1, β around 0.2.</summary>
    private static (float[] X, float[] Gamma, float[] Beta) Inputs(int[] shape, int seed)
    {
        int c = shape[^1];
        var z = Reference.RandomNormal(shape.Aggregate(1, (a, b) => a * b), seed);
        var x = z.Select((v, i) => 3f + (0.5f + 2f * (i % c) / c) * v).ToArray();
        var gamma = Reference.RandomNormal(c, seed + 1).Select(v => 1f + 0.5f * v).ToArray();
        var beta = Reference.RandomNormal(c, seed + 2).Select(v => 0.2f + 0.5f * v).ToArray();
        return (x, gamma, beta);
    }

    private static double[] D(float[] v) => v.Select(f => (double)f).ToArray();

    /// <summary>Group norm of channels-last x in float64, two-pass variance; returns y and the [N, G] mean and rstd.</summary>
    private static (double[] Y, double[] Mean, double[] Rstd) GroupNormReference(
        double[] x, double[] gamma, double[] beta, int[] shape, int groups, bool silu)
    {
        int n = shape[0], c = shape[^1], s = x.Length / (n * c), cpg = c / groups;
        var y = new double[x.Length];
        var mean = new double[n * groups];
        var rstd = new double[n * groups];
        for (int b = 0; b < n; b++)
            for (int g = 0; g < groups; g++)
            {
                var members = Enumerable.Range(0, s)
                    .SelectMany(p => Enumerable.Range(g * cpg, cpg).Select(ch => (b * s + p) * c + ch)).ToArray();
                double m = members.Average(i => x[i]);
                double variance = members.Average(i => (x[i] - m) * (x[i] - m));
                double r = 1.0 / Math.Sqrt(variance + Eps);
                mean[b * groups + g] = m;
                rstd[b * groups + g] = r;
                foreach (int i in members)
                {
                    double z = (x[i] - m) * r * gamma[i % c] + beta[i % c];
                    y[i] = silu ? z / (1.0 + Math.Exp(-z)) : z;
                }
            }
        return (y, mean, rstd);
    }

    /// <summary>Layer norm over the last dim (gamma's length) in float64; returns y and the per-row mean and rstd.</summary>
    private static (double[] Y, double[] Mean, double[] Rstd) LayerNormReference(double[] x, double[] gamma, double[] beta)
    {
        int c = gamma.Length, rows = x.Length / c;
        var y = new double[x.Length];
        var mean = new double[rows];
        var rstd = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            var slice = x.AsSpan(r * c, c).ToArray();
            double m = slice.Average();
            double variance = slice.Average(v => (v - m) * (v - m));
            mean[r] = m;
            rstd[r] = 1.0 / Math.Sqrt(variance + Eps);
            for (int j = 0; j < c; j++) y[r * c + j] = (slice[j] - m) * rstd[r] * gamma[j] + beta[j];
        }
        return (y, mean, rstd);
    }
}
