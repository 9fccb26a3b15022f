using IlgpuDiffusion.Autograd;

namespace IlgpuDiffusion.Model.TextEncoder;

/// <summary>
/// What <see cref="ClipTextEncoder.Encode"/> returns: <see cref="LastHiddenState"/> [N, L, C] (after the final layer
/// norm; the UNet's cross-attention context) and <see cref="PoolerOutput"/> [N, C] (its row at each sequence's end
/// token). Disposing it releases both.
/// </summary>
public sealed record ClipTextOutput(Var LastHiddenState, Var PoolerOutput) : IDisposable
{
    public void Dispose()
    {
        LastHiddenState.Dispose();
        PoolerOutput.Dispose();
    }
}
