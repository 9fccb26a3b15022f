using IlgpuDiffusion.CLora.Interop;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.CLora.Interop;

public sealed class TruncatedSvdTests
{
    [Theory]
    [InlineData(40, 24)]
    [InlineData(24, 40)]
    [InlineData(33, 33)]
    public void Exactly_rank_3_matrix_is_reconstructed_at_rank_3(int rows, int cols)
    {
        var u = Normal(rows * 3, 1);
        var v = Normal(cols * 3, 2);
        var matrix = new double[rows * cols];
        for (int o = 0; o < rows; o++)
            for (int i = 0; i < cols; i++)
                for (int j = 0; j < 3; j++) matrix[o * cols + i] += u[o * 3 + j] * v[i * 3 + j];

        var svd = TruncatedSvd.Decompose(matrix, rows, cols, 3);

        Assert.Equal(3, svd.Rank);
        Assert.True(svd.RelativeError <= 1e-9, $"error {svd.RelativeError}");
        Assert.True(RelativeDistance(Product(svd), matrix) <= 1e-9);
        Assert.All(svd.SingularValues.Skip(3), s => Assert.True(s <= 1e-6 * svd.SingularValues[0]));
    }

    [Theory]
    [InlineData(30, 12)]
    [InlineData(12, 30)]
    public void Error_at_rank_k_is_the_norm_of_the_discarded_singular_values(int rows, int cols)
    {
        double[] sigma = [10, 7, 5, 3, 2, 1.5, 1, 0.5, 0.25, 0.125, 0.0625, 0.03];
        var matrix = WithSingularValues(rows, cols, sigma, seed: 3);
        double total = Math.Sqrt(sigma.Sum(s => s * s));
        foreach (int k in new[] { 1, 2, 4, 7, 11 })
        {
            var svd = TruncatedSvd.Decompose(matrix, rows, cols, k);
            double expected = Math.Sqrt(sigma.Skip(k).Sum(s => s * s)) / total;
            Assert.True(Math.Abs(svd.RelativeError - expected) <= 1e-9 * expected, $"rank {k}: {svd.RelativeError} vs {expected}");
            Assert.True(Math.Abs(RelativeDistance(Product(svd), matrix) - expected) <= 1e-9 * expected);
            for (int j = 0; j < k; j++)
            {
                Assert.Equal(sigma[j], svd.SingularValues[j], 1e-9 * sigma[0]);
                Assert.Equal(sigma[j], ColumnNormSquared(svd.Up.Span, rows, k, j), 1e-9 * sigma[0]);
                Assert.Equal(sigma[j], HostDot(svd.Down.Span.Slice(j * cols, cols), svd.Down.Span.Slice(j * cols, cols)), 1e-9 * sigma[0]);
            }
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void Repeated_singular_values_are_handled_even_when_the_cut_splits_them(int rank)
    {
        double[] sigma = [3, 3, 3, 1, 1, 1, 0.5, 0.5, 0.5];
        var matrix = WithSingularValues(20, 9, sigma, seed: 5);
        var svd = TruncatedSvd.Decompose(matrix, 20, 9, rank);
        double expected = Math.Sqrt(sigma.Skip(rank).Sum(s => s * s) / sigma.Sum(s => s * s));
        Assert.True(Math.Abs(svd.RelativeError - expected) <= 1e-9 * expected, $"{svd.RelativeError} vs {expected}");
    }

    [Fact]
    public void A_rank_above_min_dimension_is_lowered_and_exact()
    {
        var matrix = Normal(7 * 5, 9);
        var svd = TruncatedSvd.Decompose(matrix, 7, 5, 16);
        Assert.Equal(5, svd.Rank);
        Assert.True(svd.RelativeError <= 1e-12);
    }

    [Fact]
    public void A_zero_matrix_has_zero_factors_and_no_error()
    {
        var svd = TruncatedSvd.Decompose(new double[6 * 4], 6, 4, 2);
        Assert.Equal(0, svd.RelativeError);
        Assert.All(svd.Up.ToArray().Concat(svd.Down.ToArray()), v => Assert.Equal(0, v));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(37)]
    public void Symmetric_eigen_solver_finds_the_largest_eigenpairs(int n)
    {
        var random = Normal(n * n, 11 + n);
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) a[i * n + j] = random[i * n + j] + random[j * n + i];
        int count = Math.Min(n, 5);
        var (values, vectors) = SymmetricEigen.Largest((double[])a.Clone(), n, count);

        Assert.Equal(values.OrderDescending(), values);
        double trace = Enumerable.Range(0, n).Sum(i => a[i * n + i]), norm = Math.Sqrt(a.Sum(x => x * x));
        Assert.Equal(trace, values.Sum(), 1e-10 * norm * n);
        for (int p = 0; p < count; p++)
        {
            var v = vectors.AsSpan(p * n, n);
            for (int i = 0; i < n; i++)
                Assert.Equal(values[p] * v[i], HostDot(a.AsSpan(i * n, n), v), 1e-12 * norm);
            for (int q = 0; q < count; q++)
                Assert.Equal(p == q ? 1 : 0, HostDot(v, vectors.AsSpan(q * n, n)), 1e-12);
        }
    }

    [Fact]
    public void Export_factors_linear_and_convolution_deltas_in_order()
    {
        var linear = new DenseLayerDelta(LoraComponent.UNet, TinyModules.MidToV, Reference.RandomNormal(20 * 12, 1), [20, 12]);
        var conv = new DenseLayerDelta(LoraComponent.UNet, "mid_block.resnets.0.conv1", Reference.RandomNormal(6 * 2 * 3 * 3, 2), [6, 2, 3, 3]);
        var layers = LowRankExport.Factorize([linear, conv], rank: 4);

        Assert.Equal([TinyModules.MidToV, "mid_block.resnets.0.conv1"], layers.Select(l => l.Layer.ModuleName));
        Assert.Equal([4, 12], layers[0].Layer.DownShape);
        Assert.Equal([20, 4], layers[0].Layer.UpShape);
        Assert.Equal([4, 2, 3, 3], layers[1].Layer.DownShape);
        Assert.Equal([6, 4, 1, 1], layers[1].Layer.UpShape);
        foreach (var ((layer, approximation), dense) in layers.Zip([linear, conv]))
        {
            Assert.Equal(1.0, layer.Scale);
            Assert.Equal(dense.Shape, layer.DeltaShape);
            var source = dense.Delta.ToArray().Select(v => (double)v).ToArray();
            Assert.Equal(approximation.RelativeError, RelativeDistance(layer.ComputeDelta().Select(v => (double)v).ToArray(), source), 1e-6);
            Assert.InRange(approximation.RelativeError, 0.05, 0.99);
        }
    }

    private static double[] Normal(int count, int seed) => [.. Reference.RandomNormal(count, seed).Select(v => (double)v)];

    /// <summary>U diag(σ) Vᵀ with U, V random with orthonormal columns (Gram–Schmidt twice).</summary>
    internal static double[] WithSingularValues(int rows, int cols, double[] sigma, int seed)
    {
        int n = Math.Min(rows, cols);
        double[] u = Orthonormal(rows, n, seed), v = Orthonormal(cols, n, seed + 1);
        var matrix = new double[rows * cols];
        for (int o = 0; o < rows; o++)
            for (int i = 0; i < cols; i++)
                for (int j = 0; j < n; j++) matrix[o * cols + i] += u[o * n + j] * sigma[j] * v[i * n + j];
        return matrix;
    }

    /// <summary>[length, count] with orthonormal columns.</summary>
    private static double[] Orthonormal(int length, int count, int seed)
    {
        var q = Normal(length * count, seed);
        for (int j = 0; j < count; j++)
            for (int pass = 0; pass < 2; pass++)
            {
                for (int p = 0; p < j; p++)
                {
                    double dot = 0;
                    for (int i = 0; i < length; i++) dot += q[i * count + j] * q[i * count + p];
                    for (int i = 0; i < length; i++) q[i * count + j] -= dot * q[i * count + p];
                }
                double norm = Math.Sqrt(Enumerable.Range(0, length).Sum(i => q[i * count + j] * q[i * count + j]));
                for (int i = 0; i < length; i++) q[i * count + j] /= norm;
            }
        return q;
    }

    private static double[] Product(LowRankApproximation svd)
    {
        var result = new double[svd.Rows * svd.Cols];
        for (int o = 0; o < svd.Rows; o++)
            for (int i = 0; i < svd.Cols; i++)
                for (int j = 0; j < svd.Rank; j++) result[o * svd.Cols + i] += svd.Up.Span[o * svd.Rank + j] * svd.Down.Span[j * svd.Cols + i];
        return result;
    }

    private static double RelativeDistance(double[] actual, double[] expected) =>
        Math.Sqrt(actual.Zip(expected).Sum(p => (p.First - p.Second) * (p.First - p.Second)) / expected.Sum(x => x * x));

    private static double ColumnNormSquared(ReadOnlySpan<double> matrix, int rows, int cols, int column)
    {
        double sum = 0;
        for (int o = 0; o < rows; o++) sum += matrix[o * cols + column] * matrix[o * cols + column];
        return sum;
    }

    private static double HostDot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++) sum += x[i] * y[i];
        return sum;
    }
}
