namespace IlgpuDiffusion.CLora.Library;

/// <summary>
/// Adds a task's weight delta to a layer's running sum on the host: each element is summed in float64 (the old fp32
/// value plus the delta's terms) and rounded to fp32 once, so P never loses precision to fp32 partial sums.
/// </summary>
internal static class DeltaAccumulator
{
    /// <summary>Returns <paramref name="sum"/> + <paramref name="up"/>·<paramref name="down"/> for up [out, r] and down [r, in].</summary>
    public static float[] AddProduct(ReadOnlyMemory<float> sum, float[] up, float[] down, int rows, int rank, int columns)
    {
        var result = new float[(long)rows * columns];
        Parallel.For(0, rows, () => new double[columns], (i, _, row) =>
        {
            var old = sum.Span.Slice(i * columns, columns);
            for (int j = 0; j < columns; j++) row[j] = old[j];
            for (int k = 0; k < rank; k++)
            {
                double u = up[(i * rank) + k];
                var downRow = down.AsSpan(k * columns, columns);
                for (int j = 0; j < columns; j++) row[j] += u * downRow[j];
            }
            for (int j = 0; j < columns; j++) result[(i * columns) + j] = (float)row[j];
            return row;
        }, _ => { });
        return result;
    }

    /// <summary>Returns <paramref name="sum"/> + <paramref name="delta"/>, element by element.</summary>
    public static float[] AddDense(ReadOnlySpan<float> sum, float[] delta)
    {
        var result = new float[delta.Length];
        for (int i = 0; i < delta.Length; i++) result[i] = (float)((double)sum[i] + delta[i]);
        return result;
    }
}
