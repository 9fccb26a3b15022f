namespace IlgpuDiffusion.Kernels;

/// <summary>The element-wise activations <see cref="Activation"/> offers.</summary>
public enum ActivationKind
{
    /// <summary>Exact (erf) GELU: <see cref="GeluErf"/>.</summary>
    Gelu,

    /// <summary>CLIP's x·σ(1.702x): <see cref="QuickGelu"/>.</summary>
    QuickGelu,

    /// <summary>x·σ(x): <see cref="Silu"/>.</summary>
    Silu,
}
