namespace IlgpuDiffusion.Evaluation.Extractors;

/// <summary>Splits a list of inputs into forward passes of bounded size and the results into one vector per input.</summary>
internal static class EmbeddingBatches
{
    /// <summary>Inputs per forward pass.</summary>
    public const int Size = 16;

    /// <summary>
    /// Calls <paramref name="embed"/>(start, count) for consecutive batches of at most <see cref="Size"/> of the
    /// <paramref name="total"/> inputs; each call returns [count, <paramref name="dimension"/>] row-major.
    /// </summary>
    public static float[][] Run(int dimension, int total, Func<int, int, float[]> embed)
    {
        var result = new float[total][];
        for (int start = 0; start < total; start += Size)
        {
            int count = Math.Min(Size, total - start);
            var flat = embed(start, count);
            if (flat.Length != count * dimension)
                throw new InvalidOperationException($"a batch of {count} gave {flat.Length} values, expected {count} x {dimension}.");
            for (int i = 0; i < count; i++) result[start + i] = flat.AsSpan(i * dimension, dimension).ToArray();
        }
        return result;
    }
}
