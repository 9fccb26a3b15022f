namespace IlgpuDiffusion.Autograd;

public static partial class Ops
{
    /// <summary>
    /// GEGLU(x · weightᵀ + bias): the GEGLU feed-forward's projection and activation, <c>Geglu(Linear(x, weight,
    /// bias))</c>. When nothing records a backward and the bias (if any) has the weight's dtype, it runs as one
    /// kernel (<see cref="Kernels.LinearGeglu"/>: on CUDA the activation is fused into the GEMM's epilogue);
    /// otherwise as the two ops, whose backward keeps the projection.
    /// </summary>
    public static Var LinearGeglu(Var x, Var weight, Var? bias = null)
    {
        if (Recorder.ShouldRecord(x, weight, bias) || (bias is not null && bias.Value.DType != weight.Value.DType))
        {
            using var projected = Linear(x, weight, bias);
            return Geglu(projected);
        }
        return Var.Result(Kernels.LinearGeglu.Forward(x.Value, weight.Value, bias?.Value), false);
    }
}
