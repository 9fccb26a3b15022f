namespace IlgpuDiffusion.Tests.Support;

/// <summary>Random inputs and float64 error measures shared by the tests.</summary>
public static class Reference
{
    /// <summary>Standard-normal floats from a seeded generator (never all zeros).</summary>
    public static float[] RandomNormal(int count, int seed)
    {
        var rng = new Random(seed);
        var result = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            result[i] = (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }
        return result;
    }

    /// <summary>‖actual − expected‖ / ‖expected‖ in float64.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        if (actual.Length != expected.Length) throw new ArgumentException($"length {actual.Length} vs {expected.Length}");
        double num = 0, den = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = actual[i] - expected[i];
            num += d * d;
            den += expected[i] * expected[i];
        }
        return Math.Sqrt(num) / Math.Max(Math.Sqrt(den), double.Epsilon);
    }

    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        var e = new double[expected.Length];
        for (int i = 0; i < e.Length; i++) e[i] = expected[i];
        return RelativeError(actual, e);
    }
}

/// <summary>Central finite differences in float64, the reference for every backward kernel.</summary>
public static class FiniteDifference
{
    /// <summary>
    /// d(Σ_i w_i · f(x)_i)/dx by central differences: <paramref name="forward"/> is a float64 host reference of the
    /// op, <paramref name="upstream"/> the output gradient w. Returns one derivative per element of <paramref name="x"/>.
    /// </summary>
    public static double[] Gradient(Func<double[], double[]> forward, double[] x, double[] upstream, double eps = 1e-6)
    {
        var grad = new double[x.Length];
        var probe = (double[])x.Clone();
        for (int i = 0; i < x.Length; i++)
        {
            probe[i] = x[i] + eps;
            double plus = Dot(forward(probe), upstream);
            probe[i] = x[i] - eps;
            double minus = Dot(forward(probe), upstream);
            probe[i] = x[i];
            grad[i] = (plus - minus) / (2 * eps);
        }
        return grad;
    }

    private static double Dot(double[] a, double[] b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"output length {a.Length} vs upstream {b.Length}");
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
