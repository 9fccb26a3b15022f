using IlgpuDiffusion.Autograd;

namespace IlgpuDiffusion.CLora;

/// <summary>
/// One step's loss: <see cref="Total"/> = <see cref="Mse"/> + λ·<see cref="Regularizer"/>, each a one-element Var
/// (back-propagate <see cref="Total"/>). Disposing releases all three.
/// </summary>
public sealed class CLoraLossTerms(Var total, Var mse, Var regularizer, float lambda) : IDisposable
{
    /// <summary>The loss to back-propagate.</summary>
    public Var Total { get; } = total;

    /// <summary>The (min-SNR weighted) ε-prediction MSE, L_diff.</summary>
    public Var Mse { get; } = mse;

    /// <summary>L_forget = Σ_layers Σ M⊙(up·down)², before λ (0 on task 1).</summary>
    public Var Regularizer { get; } = regularizer;

    /// <summary>λ, the regulariser's weight in <see cref="Total"/>.</summary>
    public float Lambda { get; } = lambda;

    /// <summary>Reads the values to log (waits for the device).</summary>
    public CLoraLossValues Read()
    {
        float mse = Mse.Value.ToFloatArray()[0], reg = Regularizer.Value.ToFloatArray()[0];
        return new CLoraLossValues(Total.Value.ToFloatArray()[0], mse, reg, Lambda * reg / mse);
    }

    public void Dispose()
    {
        Total.Dispose();
        Mse.Dispose();
        Regularizer.Dispose();
    }
}

/// <summary>
/// The logged values of a step: the total, L_diff, L_forget (before λ) and the ratio λ·L_forget / L_diff that
/// docs/clora-spec.md §2 asks to watch when choosing λ.
/// </summary>
public readonly record struct CLoraLossValues(float Total, float Mse, float Regularizer, float Ratio);
