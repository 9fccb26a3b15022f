namespace IlgpuDiffusion.Kernels;

/// <summary>
/// What a normalization forward returns: the output and the per-(sample, group) or per-row mean and reciprocal
/// standard deviation that its backward reuses. Disposing it disposes all three tensors.
/// </summary>
public sealed record NormOutput(Tensor Output, Tensor Mean, Tensor Rstd) : IDisposable
{
    public void Dispose()
    {
        Output.Dispose();
        Mean.Dispose();
        Rstd.Dispose();
    }
}

/// <summary>
/// What a normalization backward returns: dx, and dγ, dβ unless γ and β are frozen (then null).
/// Disposing it disposes every tensor it holds.
/// </summary>
public sealed record NormGradients(Tensor Dx, Tensor? DGamma, Tensor? DBeta) : IDisposable
{
    public void Dispose()
    {
        Dx.Dispose();
        DGamma?.Dispose();
        DBeta?.Dispose();
    }
}
