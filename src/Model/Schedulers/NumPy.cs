namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>
/// numpy 1.24's float64 <c>linspace</c>, <c>arange</c> and <c>interp</c>, operation for operation, so that timesteps
/// and sigmas round exactly as in diffusers (a linspace value of 499.5 rounds half-to-even only if it is computed
/// the same way).
/// </summary>
internal static class NumPy
{
    /// <summary><c>np.linspace(start, stop, num)</c>: i·((stop − start)/(num − 1)) + start, the last value exactly stop.</summary>
    public static double[] Linspace(double start, double stop, int num)
    {
        var y = new double[num];
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++) y[i] = num > 1 ? i * step + start : start;
        if (num > 1) y[^1] = stop;
        return y;
    }

    /// <summary>
    /// <c>np.arange(start, stop, step)</c>: ceil((stop − start)/step) values start, start + step, then start + i·delta
    /// with delta = (start + step) − start.
    /// </summary>
    public static double[] Arange(double start, double stop, double step)
    {
        int length = Math.Max(0, (int)Math.Ceiling((stop - start) / step));
        var y = new double[length];
        double second = start + step, delta = second - start;
        for (int i = 0; i < length; i++) y[i] = i switch { 0 => start, 1 => second, _ => start + i * delta };
        return y;
    }

    /// <summary>
    /// <c>np.interp(x, arange(len(fp)), fp)</c>: slope·(x − j) + fp[j] for j ≤ x &lt; j + 1, fp[j] where x is a knot,
    /// and the end values outside the range.
    /// </summary>
    public static double Interp(double x, IReadOnlyList<float> fp)
    {
        if (x <= 0) return fp[0];
        if (x >= fp.Count - 1) return fp[^1];
        int j = (int)Math.Floor(x);
        if (j == x) return fp[j];
        double slope = (double)fp[j + 1] - fp[j]; // divided by the knot spacing, 1
        return slope * (x - j) + fp[j];
    }
}
