namespace IlgpuDiffusion.Kernels;

/// <summary>
/// A scalar activation and its derivative, passed to kernels as a generic struct argument so that ILGPU inlines it:
/// one forward and one backward kernel serve every activation.
/// </summary>
public interface IUnaryOp
{
    /// <summary>f(x).</summary>
    float Apply(float x);

    /// <summary>f′(x).</summary>
    float Derivative(float x);
}

/// <summary>GELU in its exact erf form, x·Φ(x) (PyTorch's default <c>gelu</c>, diffusers' GEGLU and GELU).</summary>
public readonly struct GeluErf : IUnaryOp
{
    /// <inheritdoc/>
    public float Apply(float x) => x * ErfMath.NormalCdf(x);

    /// <inheritdoc/>
    public float Derivative(float x) => ErfMath.NormalCdf(x) + x * ErfMath.NormalPdf(x);
}

/// <summary>CLIP's quick GELU, x·σ(1.702·x).</summary>
public readonly struct QuickGelu : IUnaryOp
{
    private const float K = 1.702f;

    /// <inheritdoc/>
    public float Apply(float x) => x * Sigmoid.Of(K * x);

    /// <inheritdoc/>
    public float Derivative(float x)
    {
        float z = K * x;
        float s = Sigmoid.Of(z);
        return s + z * s * Sigmoid.Of(-z);
    }
}

/// <summary>SiLU (swish), x·σ(x), the UNet's and VAE's resnet activation.</summary>
public readonly struct Silu : IUnaryOp
{
    /// <inheritdoc/>
    public float Apply(float x) => x * Sigmoid.Of(x);

    /// <inheritdoc/>
    public float Derivative(float x)
    {
        float s = Sigmoid.Of(x);
        return s * (1f + x * Sigmoid.Of(-x));
    }
}

/// <summary>The logistic function, usable in kernels.</summary>
public static class Sigmoid
{
    /// <summary>σ(z) = 1/(1 + e^−z): 0 or 1, never NaN, where e^−z overflows or underflows. Callers use σ(−z) for 1 − σ(z), which keeps full relative precision.</summary>
    public static float Of(float z) => 1f / (1f + MathF.Exp(-z));
}
