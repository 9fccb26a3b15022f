using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Evaluation.Models;

/// <summary>Picks one token per sequence: hidden [N, L, C] and a position per sample → [N, C].</summary>
internal static class SequenceRows
{
    public static Var Take(Var hidden, IReadOnlyList<int> positions)
    {
        int batch = hidden.Shape[0], length = hidden.Shape[1];
        if (positions.Count != batch || positions.Any(p => p < 0 || p >= length))
            throw new ArgumentException($"{positions.Count} positions for {batch} sequences of {length} tokens.", nameof(positions));
        var rows = new int[batch];
        for (int n = 0; n < batch; n++) rows[n] = n * length + positions[n];
        using var rowIds = Tensor.FromHost(hidden.Device, rows, batch);
        using var flat = Ops.Reshape(hidden, batch * length, hidden.Shape[2]);
        return Ops.Embedding(flat, rowIds);
    }

    /// <summary>The first token (the class token) of each sequence.</summary>
    public static Var First(Var hidden) => Take(hidden, new int[hidden.Shape[0]]);
}
