namespace IlgpuDiffusion.CLora.Interop;

/// <summary>
/// Truncated SVD of a dense ΔW [out, in] in float64 on the host, for exporting full-rank deltas (K/V fine-tuning) as
/// LoRA: ΔW ≈ U_r Σ_r V_rᵀ, factored as up = U_r √Σ_r, down = √Σ_r V_rᵀ. It decomposes the smaller Gram matrix
/// (ΔWᵀΔW or ΔWΔWᵀ, min(out, in)² entries) with <see cref="SymmetricEigen"/> and projects ΔW on its leading
/// eigenvectors, so the product up · down is ΔW's projection on them; the reported error is measured on that
/// product, not inferred from the spectrum.
/// </summary>
public static class TruncatedSvd
{
    /// <summary>
    /// The best rank-<paramref name="rank"/> approximation of <paramref name="matrix"/> [rows, cols] (row-major). A rank
    /// above min(rows, cols) is lowered to it (the approximation is then exact).
    /// </summary>
    public static LowRankApproximation Decompose(ReadOnlySpan<double> matrix, int rows, int cols, int rank)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        if (matrix.Length != (long)rows * cols)
            throw new ArgumentException($"{matrix.Length} values do not fill a [{rows}, {cols}] matrix.", nameof(matrix));
        int n = Math.Min(rows, cols), k = Math.Min(rank, n);
        bool rightVectors = cols <= rows;
        var (values, vectors) = SymmetricEigen.Largest(rightVectors ? GramOfColumns(matrix, rows, cols) : GramOfRows(matrix, rows, cols), n, k);
        double[] up = new double[rows * k], down = new double[k * cols];
        var projected = new double[rightVectors ? rows : cols];
        for (int j = 0; j < k; j++)
        {
            ReadOnlySpan<double> vector = vectors.AsSpan(j * n, n);
            Array.Clear(projected);
            for (int o = 0; o < rows; o++)
            {
                var row = matrix.Slice(o * cols, cols);
                if (rightVectors) projected[o] = HostVector.Dot(row, vector);
                else HostVector.Axpy(vector[o], row, projected);
            }
            double sigma = HostVector.Norm(projected);
            if (sigma == 0) continue;
            double root = Math.Sqrt(sigma);
            ReadOnlySpan<double> outSide = rightVectors ? projected : vector, inSide = rightVectors ? vector : projected;
            double outScale = rightVectors ? 1 / root : root, inScale = rightVectors ? root : 1 / root;
            for (int o = 0; o < rows; o++) up[o * k + j] = outScale * outSide[o];
            for (int i = 0; i < cols; i++) down[j * cols + i] = inScale * inSide[i];
        }
        return new LowRankApproximation(rows, cols, up, down, [.. values.Select(v => Math.Sqrt(Math.Max(v, 0)))],
            RelativeError(matrix, rows, cols, up, down, k));
    }

    /// <summary>The upper triangle of ΔWᵀΔW [cols, cols], accumulated row by row of ΔW.</summary>
    private static double[] GramOfColumns(ReadOnlySpan<double> matrix, int rows, int cols)
    {
        var gram = new double[cols * cols];
        for (int o = 0; o < rows; o++)
        {
            var row = matrix.Slice(o * cols, cols);
            for (int i = 0; i < cols; i++)
                if (row[i] != 0) HostVector.Axpy(row[i], row[i..], gram.AsSpan(i * cols + i, cols - i));
        }
        return gram;
    }

    /// <summary>The upper triangle of ΔWΔWᵀ [rows, rows]: the dot products of ΔW's rows.</summary>
    private static double[] GramOfRows(ReadOnlySpan<double> matrix, int rows, int cols)
    {
        var gram = new double[rows * rows];
        for (int i = 0; i < rows; i++)
            for (int j = i; j < rows; j++)
                gram[i * rows + j] = HostVector.Dot(matrix.Slice(i * cols, cols), matrix.Slice(j * cols, cols));
        return gram;
    }

    /// <summary>‖ΔW − up · down‖_F / ‖ΔW‖_F (0 for ΔW = 0).</summary>
    private static double RelativeError(ReadOnlySpan<double> matrix, int rows, int cols, double[] up, double[] down, int k)
    {
        double residual = 0, total = 0;
        var product = new double[cols];
        for (int o = 0; o < rows; o++)
        {
            Array.Clear(product);
            for (int j = 0; j < k; j++) HostVector.Axpy(up[o * k + j], down.AsSpan(j * cols, cols), product);
            var row = matrix.Slice(o * cols, cols);
            for (int i = 0; i < cols; i++)
            {
                double difference = row[i] - product[i];
                residual += difference * difference;
                total += row[i] * row[i];
            }
        }
        return total == 0 ? 0 : Math.Sqrt(residual / total);
    }
}
