namespace IlgpuDiffusion.Evaluation.Metrics;

/// <summary>Checks and float64 arithmetic on sets of embeddings (one <c>float[]</c> per image or prompt).</summary>
public static class EmbeddingSet
{
    /// <summary>
    /// Throws unless <paramref name="set"/> holds at least <paramref name="minimum"/> finite vectors of one length
    /// (and of <paramref name="dimension"/> when given); <paramref name="name"/> names the set in the message.
    /// Returns the common length.
    /// </summary>
    public static int Check(IReadOnlyList<float[]> set, string name, int minimum = 1, int? dimension = null)
    {
        ArgumentNullException.ThrowIfNull(set);
        if (set.Count < minimum)
            throw new ArgumentException($"{name}: needs at least {minimum} embedding{(minimum == 1 ? "" : "s")}, got {set.Count}.");
        int d = dimension ?? set[0].Length;
        if (d == 0) throw new ArgumentException($"{name}: embeddings are empty.");
        for (int i = 0; i < set.Count; i++)
        {
            if (set[i].Length != d)
                throw new ArgumentException($"{name}: embedding {i} has length {set[i].Length}, expected {d}.");
            foreach (float v in set[i])
                if (!float.IsFinite(v)) throw new ArgumentException($"{name}: embedding {i} is not finite.");
        }
        return d;
    }

    /// <summary>xᵀy in float64.</summary>
    public static double Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++) sum += (double)x[i] * y[i];
        return sum;
    }

    /// <summary>cos(x, y) = xᵀy / (‖x‖‖y‖) in float64; a zero vector is an error.</summary>
    public static double Cosine(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double norms = Math.Sqrt(Dot(x, x) * Dot(y, y));
        if (norms == 0) throw new ArgumentException("the cosine of a zero embedding is undefined.");
        return Dot(x, y) / norms;
    }

    /// <summary>Each vector divided by its L2 norm, in float64.</summary>
    public static double[][] Normalized(IReadOnlyList<float[]> set)
    {
        var result = new double[set.Count][];
        for (int i = 0; i < set.Count; i++)
        {
            double norm = Math.Sqrt(Dot(set[i], set[i]));
            if (norm == 0) throw new ArgumentException($"embedding {i} is zero and cannot be normalised.");
            result[i] = Array.ConvertAll(set[i], v => v / norm);
        }
        return result;
    }

    /// <summary>Widens float32 vectors to float64.</summary>
    public static double[][] Widened(IReadOnlyList<float[]> set) => [.. set.Select(v => Array.ConvertAll(v, x => (double)x))];

    /// <summary>xᵀy of float64 vectors.</summary>
    public static double Dot(double[] x, double[] y)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++) sum += x[i] * y[i];
        return sum;
    }
}
