namespace IlgpuDiffusion.Evaluation.Metrics;

/// <summary>
/// CLIP-I / DINO-I: the mean over all pairs (i, j) of cos(xᵢ, yⱼ) between generated embeddings x and real
/// embeddings y, in float64.
/// </summary>
public sealed class MeanCosineScore : IResamplableScore
{
    private readonly double[,] cosines;

    public MeanCosineScore(IReadOnlyList<float[]> generated, IReadOnlyList<float[]> real)
    {
        int d = EmbeddingSet.Check(generated, "generated set");
        EmbeddingSet.Check(real, "real set", dimension: d);
        cosines = new double[generated.Count, real.Count];
        for (int i = 0; i < generated.Count; i++)
            for (int j = 0; j < real.Count; j++)
                cosines[i, j] = EmbeddingSet.Cosine(generated[i], real[j]);
        SetSizes = [generated.Count, real.Count];
        Value = Evaluate([Enumerable.Range(0, generated.Count).ToArray(), Enumerable.Range(0, real.Count).ToArray()]);
    }

    public IReadOnlyList<int> SetSizes { get; }

    public double Value { get; }

    public double Evaluate(IReadOnlyList<int[]> samples)
    {
        int[] rows = samples[0], columns = samples[1];
        double sum = 0;
        foreach (int i in rows)
            foreach (int j in columns)
                sum += cosines[i, j];
        return sum / ((double)rows.Length * columns.Length);
    }
}
