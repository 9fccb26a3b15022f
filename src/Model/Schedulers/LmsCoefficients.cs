namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>
/// The linear multistep weights of k-diffusion's <c>sample_lms</c>: the integral over [σ_i, σ_{i+1}] of the
/// Lagrange basis polynomial through σ_i, σ_{i−1}, …, σ_{i−order+1} that is 1 at σ_{i−j}. diffusers integrates it
/// numerically (<c>scipy.integrate.quad</c>); it is a polynomial of degree order − 1, so this integrates it exactly,
/// in float64: with τ = σ_i + s it is Π_{k≠j}(s + σ_i − σ_{i−k}) / Π_{k≠j}(σ_{i−j} − σ_{i−k}) over s in [0, σ_{i+1} − σ_i].
/// </summary>
internal static class LmsCoefficients
{
    /// <summary>The weight of the derivative from step i − <paramref name="j"/> (j = 0 is the newest).</summary>
    public static double Weight(IReadOnlyList<float> sigmas, int i, int order, int j)
    {
        // Polynomial in s, lowest power first.
        var poly = new double[order];
        poly[0] = 1;
        int degree = 0;
        double denominator = 1;
        for (int k = 0; k < order; k++)
        {
            if (k == j) continue;
            double shift = (double)sigmas[i] - sigmas[i - k];
            for (int p = ++degree; p >= 0; p--) poly[p] = (p > 0 ? poly[p - 1] : 0) + shift * poly[p];
            denominator *= (double)sigmas[i - j] - sigmas[i - k];
        }
        double h = (double)sigmas[i + 1] - sigmas[i], integral = 0, power = h;
        for (int p = 0; p <= degree; p++, power *= h) integral += poly[p] * power / (p + 1);
        return integral / denominator;
    }
}
