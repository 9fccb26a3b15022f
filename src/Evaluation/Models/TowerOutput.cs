using IlgpuDiffusion.Autograd;

namespace IlgpuDiffusion.Evaluation.Models;

/// <summary>
/// What a tower returns, as transformers names it: <see cref="LastHiddenState"/> [N, L, C], <see cref="Pooled"/> [N, C]
/// (CLIP: the pooled output; DINO: the CLS token) and, for CLIP, <see cref="Embeds"/> [N, projection_dim]
/// (<c>get_image_features</c> / <c>get_text_features</c>, not normalised). Disposing it releases them.
/// </summary>
public sealed record TowerOutput(Var LastHiddenState, Var Pooled, Var? Embeds) : IDisposable
{
    /// <summary>The embedding the metrics use: <see cref="Embeds"/> when there is a projection, else <see cref="Pooled"/>.</summary>
    public Var Features => Embeds ?? Pooled;

    public void Dispose()
    {
        LastHiddenState.Dispose();
        Pooled.Dispose();
        Embeds?.Dispose();
    }
}
