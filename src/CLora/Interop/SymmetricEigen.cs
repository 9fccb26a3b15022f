namespace IlgpuDiffusion.CLora.Interop;

/// <summary>
/// Eigen-decomposition of a dense symmetric matrix in float64, for the few largest eigenpairs: Householder
/// reduction to tridiagonal form, then implicit QL with Wilkinson-type shifts (the EISPACK <c>tred2</c>/<c>tql2</c>
/// pair). Every eigenvalue is found; the QL rotations are recorded rather than applied to a full n×n basis, and
/// replayed on only the wanted columns, then the Householder reflections are applied to those, so the eigenvectors
/// cost O(n²·k) instead of O(n³). Backward stable: eigenvalues are exact to about ε·‖A‖, vectors orthonormal to about ε.
/// </summary>
internal static class SymmetricEigen
{
    private const int MaxIterationsPerValue = 64;

    /// <summary>
    /// All eigenvalues of the symmetric <paramref name="a"/> (n×n, row-major; only its upper triangle is read, and it
    /// is overwritten), largest first, and the eigenvectors of the <paramref name="count"/> largest as rows of a
    /// [count, n] array.
    /// </summary>
    public static (double[] Values, double[] Vectors) Largest(double[] a, int n, int count)
    {
        double scale = 0;
        for (int i = 0; i < n; i++)
            foreach (var value in Tail(a, n, i)) scale = Math.Max(scale, Math.Abs(value));
        var vectors = new double[count * n];
        if (scale == 0)
        {
            for (int j = 0; j < count; j++) vectors[j * n + j] = 1;
            return (new double[n], vectors);
        }
        for (int i = 0; i < n; i++)
            foreach (ref var value in Tail(a, n, i)) value /= scale;
        var (d, e, tau) = Tridiagonalize(a, n);
        var rotations = ImplicitQl(d, e);
        int[] order = [.. Enumerable.Range(0, n).OrderByDescending(i => d[i])];
        for (int j = 0; j < count; j++)
        {
            var x = vectors.AsSpan(j * n, n);
            x[order[j]] = 1;
            for (int r = rotations.Count - 1; r >= 0; r--)
            {
                var (i, c, s) = rotations[r];
                (x[i], x[i + 1]) = (c * x[i] + s * x[i + 1], c * x[i + 1] - s * x[i]);
            }
            for (int k = n - 3; k >= 0; k--)
            {
                var v = a.AsSpan(k * n + k + 1, n - k - 1);
                var tail = x[(k + 1)..];
                HostVector.Axpy(-tau[k] * HostVector.Dot(v, tail), v, tail);
            }
        }
        return ([.. order.Select(i => d[i] * scale)], vectors);
    }

    /// <summary>
    /// Reduces <paramref name="a"/> (its upper triangle) to tridiagonal T = Qᵀ A Q, Q = H₀ H₁ … H₍ₙ₋₃₎,
    /// Hₖ = I − τₖ vₖ vₖᵀ acting on rows k+1…: returns T's diagonal d and off-diagonal e (e[i] couples i and i+1,
    /// e[n−1] = 0), and τ; vₖ (with vₖ[0] = 1) is left in row k of <paramref name="a"/>, from column k+1. Row i's
    /// upper part a[i, i…] is contiguous, so the symmetric product and the rank-2 update run on row tails.
    /// </summary>
    private static (double[] D, double[] E, double[] Tau) Tridiagonalize(double[] a, int n)
    {
        double[] d = new double[n], e = new double[n], tau = new double[n];
        var p = new double[n];
        for (int k = 0; k < n - 2; k++)
        {
            int m = n - k - 1;
            d[k] = a[k * n + k];
            var v = a.AsSpan(k * n + k + 1, m);
            double alpha = v[0], rest = HostVector.Norm(v[1..]);
            if (rest == 0)
            {
                e[k] = alpha;
                v[0] = 1;
                continue;
            }
            double beta = -Math.CopySign(double.Hypot(alpha, rest), alpha);
            tau[k] = (beta - alpha) / beta;
            double inverse = 1 / (alpha - beta);
            for (int i = 1; i < m; i++) v[i] *= inverse;
            v[0] = 1;
            e[k] = beta;
            var w = p.AsSpan(0, m);
            w.Clear();
            for (int i = 0; i < m; i++)
            {
                var row = Tail(a, n, k + 1 + i);
                w[i] += HostVector.Dot(row, v[i..]);
                HostVector.Axpy(v[i], row[1..], w[(i + 1)..]);
            }
            for (int i = 0; i < m; i++) w[i] *= tau[k];
            HostVector.Axpy(-0.5 * tau[k] * HostVector.Dot(w, v), v, w);
            for (int i = 0; i < m; i++) HostVector.SubtractRank2(v[i], w[i..], w[i], v[i..], Tail(a, n, k + 1 + i));
        }
        if (n >= 2)
        {
            d[n - 2] = a[(n - 2) * n + n - 2];
            e[n - 2] = a[(n - 2) * n + n - 1];
        }
        d[n - 1] = a[n * n - 1];
        return (d, e, tau);
    }

    /// <summary>Row <paramref name="i"/> of the upper triangle: a[i, i…n−1].</summary>
    private static Span<double> Tail(double[] a, int n, int i) => a.AsSpan(i * n + i, n - i);

    /// <summary>
    /// The eigenvalues of the tridiagonal (d, e) into d, by implicit QL (JAMA's <c>tql2</c>). Returns the rotations
    /// (i, c, s) in order; the eigenvector matrix is their product R₁ R₂ …, where R acts on columns i, i+1 with
    /// Rᵢᵢ = Rᵢ₊₁ᵢ₊₁ = c, Rᵢᵢ₊₁ = s, Rᵢ₊₁ᵢ = −s, and column j belongs to d[j].
    /// </summary>
    private static List<(int I, double C, double S)> ImplicitQl(double[] d, double[] e)
    {
        int n = d.Length;
        var rotations = new List<(int I, double C, double S)>();
        double f = 0, tst1 = 0, eps = Math.Pow(2, -52);
        for (int l = 0; l < n; l++)
        {
            tst1 = Math.Max(tst1, Math.Abs(d[l]) + Math.Abs(e[l]));
            int m = l;
            while (m < n - 1 && Math.Abs(e[m]) > eps * tst1) m++;
            for (int iteration = 0; m > l; iteration++)
            {
                if (iteration == MaxIterationsPerValue)
                    throw new InvalidOperationException($"the symmetric eigen-solver did not converge for eigenvalue {l} of {n}.");
                double g = d[l], p = (d[l + 1] - g) / (2 * e[l]);
                double r = p < 0 ? -double.Hypot(p, 1) : double.Hypot(p, 1);
                d[l] = e[l] / (p + r);
                d[l + 1] = e[l] * (p + r);
                double dl1 = d[l + 1], h = g - d[l];
                for (int i = l + 2; i < n; i++) d[i] -= h;
                f += h;
                p = d[m];
                double c = 1, c2 = 1, c3 = 1, el1 = e[l + 1], s = 0, s2 = 0;
                for (int i = m - 1; i >= l; i--)
                {
                    c3 = c2;
                    c2 = c;
                    s2 = s;
                    g = c * e[i];
                    h = c * p;
                    r = double.Hypot(p, e[i]);
                    e[i + 1] = s * r;
                    s = e[i] / r;
                    c = p / r;
                    p = c * d[i] - s * g;
                    d[i + 1] = h + s * (c * g + s * d[i]);
                    rotations.Add((i, c, s));
                }
                p = -s * s2 * c3 * el1 * e[l] / dl1;
                e[l] = s * p;
                d[l] = c * p;
                if (Math.Abs(e[l]) <= eps * tst1) break;
            }
            d[l] += f;
            e[l] = 0;
        }
        return rotations;
    }
}
