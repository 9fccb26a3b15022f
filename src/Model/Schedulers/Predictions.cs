namespace IlgpuDiffusion.Model.Schedulers;

/// <summary>
/// Converts a model output into x₀ or ε, elementwise in float32 with torch's order of operations. The alpha form
/// (x_t = √ᾱ·x₀ + √(1−ᾱ)·ε) serves DDIM, DDPM, PNDM and DPM-Solver; the sigma form (x = x₀ + σ·ε, model input
/// scaled by 1/√(σ² + 1)) serves Euler, Euler ancestral and LMS.
/// </summary>
internal static class Predictions
{
    /// <summary>x₀ in the alpha form, from √ᾱ_t and √(1 − ᾱ_t).</summary>
    public static float[] OriginalFromAlpha(PredictionType type, float[] output, float[] sample, float sqrtAlpha, float sqrtBeta)
    {
        var x0 = new float[sample.Length];
        for (int i = 0; i < x0.Length; i++)
            x0[i] = type switch
            {
                PredictionType.Epsilon => (sample[i] - sqrtBeta * output[i]) / sqrtAlpha,
                PredictionType.VPrediction => sqrtAlpha * sample[i] - sqrtBeta * output[i],
                _ => output[i],
            };
        return x0;
    }

    /// <summary>ε in the alpha form, given the x₀ that <see cref="OriginalFromAlpha"/> returned.</summary>
    public static float[] EpsilonFromAlpha(PredictionType type, float[] output, float[] sample, float[] original, float sqrtAlpha, float sqrtBeta)
    {
        if (type == PredictionType.Epsilon) return output;
        if (type == PredictionType.VPrediction) return EpsilonFromV(output, sample, sqrtAlpha, sqrtBeta);
        var eps = new float[sample.Length];
        for (int i = 0; i < eps.Length; i++) eps[i] = (sample[i] - sqrtAlpha * original[i]) / sqrtBeta;
        return eps;
    }

    /// <summary>ε = √ᾱ·v + √(1 − ᾱ)·x_t.</summary>
    public static float[] EpsilonFromV(float[] v, float[] sample, float sqrtAlpha, float sqrtBeta)
    {
        var eps = new float[sample.Length];
        for (int i = 0; i < eps.Length; i++) eps[i] = sqrtAlpha * v[i] + sqrtBeta * sample[i];
        return eps;
    }

    /// <summary>x₀ in the sigma form: x − σ·ε, or −σ/√(σ²+1)·v + x/(σ²+1), or the output itself.</summary>
    public static float[] OriginalFromSigma(PredictionType type, float[] output, float[] sample, float sigma)
    {
        float vOut = -sigma / MathF.Sqrt(sigma * sigma + 1f), vSkip = sigma * sigma + 1f;
        var x0 = new float[sample.Length];
        for (int i = 0; i < x0.Length; i++)
            x0[i] = type switch
            {
                PredictionType.Epsilon => sample[i] - sigma * output[i],
                PredictionType.VPrediction => output[i] * vOut + sample[i] / vSkip,
                _ => output[i],
            };
        return x0;
    }
}
