namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The error function and the standard normal CDF in float, written with plain arithmetic and one
/// <see cref="MathF.Exp"/> so kernels can call them (MathF has no erf).
/// </summary>
/// <remarks>
/// Two pieces, fitted for this project by a minimax (Lawson) fit in float64 and rounded to float:
/// for |x| ≤ 0.92, erf(x) = x + x·P(x²) with P of degree 5; for 0.92 &lt; |x| &lt; 4, erfc(|x|) = exp(R(|x|)) with R
/// of degree 8 (a fit of log erfc, so the tail is accurate relative to erfc too); from 4 on erf is ±1 in float.
/// With a correctly rounded exp the float result is within 1.3 ulp of the true erf (max absolute error 7.6e-8,
/// max relative 9.2e-8); CUDA's <c>ex2.approx</c> adds about 2 ulp of exp error to the second piece.
/// </remarks>
public static class ErfMath
{
    private const float Split = 0.92f;
    private const float Saturation = 4f;
    private const float InvSqrt2 = 0.707106781f;

    /// <summary>erf(x).</summary>
    public static float Erf(float x)
    {
        float t = MathF.Abs(x);
        if (t <= Split) return x + x * SmallP(x * x);
        float r = t < Saturation ? 1f - MathF.Exp(LogErfc(t)) : 1f;
        return x < 0f ? -r : r;
    }

    /// <summary>Φ(x) = P(Z ≤ x) for a standard normal Z, i.e. ½·(1 + erf(x/√2)), accurate in the lower tail.</summary>
    public static float NormalCdf(float x)
    {
        float z = x * InvSqrt2;
        float t = MathF.Abs(z);
        if (t <= Split) return 0.5f + 0.5f * (z + z * SmallP(z * z));
        float halfErfc = t < Saturation ? 0.5f * MathF.Exp(LogErfc(t)) : 0f;
        return z < 0f ? halfErfc : 1f - halfErfc;
    }

    /// <summary>φ(x) = exp(−x²/2)/√(2π), the standard normal density.</summary>
    public static float NormalPdf(float x) => 0.398942280f * MathF.Exp(-0.5f * x * x);

    /// <summary>erf(x)/x − 1 as a polynomial in s = x², for x² ≤ 0.92².</summary>
    private static float SmallP(float s)
    {
        float p = -0.000599939667f;
        p = p * s + 0.00499482825f;
        p = p * s - 0.0267677177f;
        p = p * s + 0.112818457f;
        p = p * s - 0.376124978f;
        return p * s + 0.128379151f;
    }

    /// <summary>log erfc(t) for 0.92 &lt; t &lt; 4.</summary>
    private static float LogErfc(float t)
    {
        float r = 1.60250295e-06f;
        r = r * t - 4.53548419e-05f;
        r = r * t + 0.000590717478f;
        r = r * t - 0.0047302926f;
        r = r * t + 0.026335571f;
        r = r * t - 0.10992524f;
        r = r * t - 0.631995261f;
        r = r * t - 1.13013148f;
        return r * t + 0.000294283236f;
    }
}
