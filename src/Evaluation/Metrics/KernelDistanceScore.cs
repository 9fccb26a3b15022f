namespace IlgpuDiffusion.Evaluation.Metrics;

/// <summary>
/// The unbiased MMD² estimator (Gretton et al. 2012, eq. 3) with the cubic polynomial kernel
/// k(x, y) = (xᵀy / d + 1)³, in float64:
/// Σ_{i≠j} k(xᵢ,xⱼ)/(m(m−1)) + Σ_{i≠j} k(yᵢ,yⱼ)/(n(n−1)) − 2 Σ_{i,j} k(xᵢ,yⱼ)/(mn).
/// KID is this estimator; KID-CLIP applies it to L2-normalised CLIP image embeddings (<see cref="Kid"/>).
/// With m = n it equals clean-fid's <c>kernel_distance</c> and torchmetrics' <c>poly_mmd</c>. On a resampling, "i ≠ j"
/// means distinct positions of the sample, so a drawn duplicate counts as a distinct item.
/// </summary>
public sealed class KernelDistanceScore : IResamplableScore
{
    private readonly double[,] kxx, kyy, kxy;

    /// <summary>MMD² between the raw feature sets <paramref name="x"/> and <paramref name="y"/> (each of at least 2).</summary>
    public KernelDistanceScore(IReadOnlyList<float[]> x, IReadOnlyList<float[]> y)
        : this(Checked(x, y, out var wx), wx)
    {
    }

    private KernelDistanceScore(double[][] x, double[][] y)
    {
        kxx = Gram(x, x);
        kyy = Gram(y, y);
        kxy = Gram(x, y);
        SetSizes = [x.Length, y.Length];
        Value = Evaluate([Enumerable.Range(0, x.Length).ToArray(), Enumerable.Range(0, y.Length).ToArray()]);
    }

    public IReadOnlyList<int> SetSizes { get; }

    public double Value { get; }

    /// <summary>KID on L2-normalised embeddings (KID-CLIP when they are CLIP image embeddings); raw value, not ×10³.</summary>
    public static KernelDistanceScore Kid(IReadOnlyList<float[]> generated, IReadOnlyList<float[]> real)
    {
        int d = EmbeddingSet.Check(generated, "generated set", minimum: 2);
        EmbeddingSet.Check(real, "real set", minimum: 2, dimension: d);
        return new KernelDistanceScore(EmbeddingSet.Normalized(generated), EmbeddingSet.Normalized(real));
    }

    /// <summary>k(x, y) = (xᵀy / d + 1)³.</summary>
    public static double Kernel(double[] x, double[] y) => Math.Pow(EmbeddingSet.Dot(x, y) / x.Length + 1, 3);

    public double Evaluate(IReadOnlyList<int[]> samples)
    {
        int[] xs = samples[0], ys = samples[1];
        double m = xs.Length, n = ys.Length;
        return OffDiagonalSum(kxx, xs) / (m * (m - 1)) + OffDiagonalSum(kyy, ys) / (n * (n - 1)) - 2 * CrossSum(xs, ys) / (m * n);
    }

    private double CrossSum(int[] xs, int[] ys)
    {
        double sum = 0;
        foreach (int i in xs)
            foreach (int j in ys)
                sum += kxy[i, j];
        return sum;
    }

    private static double OffDiagonalSum(double[,] gram, int[] sample)
    {
        double sum = 0;
        for (int a = 0; a < sample.Length; a++)
            for (int b = 0; b < sample.Length; b++)
                if (a != b) sum += gram[sample[a], sample[b]];
        return sum;
    }

    private static double[,] Gram(double[][] x, double[][] y)
    {
        var gram = new double[x.Length, y.Length];
        for (int i = 0; i < x.Length; i++)
            for (int j = 0; j < y.Length; j++)
                gram[i, j] = Kernel(x[i], y[j]);
        return gram;
    }

    private static double[][] Checked(IReadOnlyList<float[]> x, IReadOnlyList<float[]> y, out double[][] widenedY)
    {
        int d = EmbeddingSet.Check(x, "first set", minimum: 2);
        EmbeddingSet.Check(y, "second set", minimum: 2, dimension: d);
        widenedY = EmbeddingSet.Widened(y);
        return EmbeddingSet.Widened(x);
    }
}
