using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

public static partial class Ops
{
    /// <summary>
    /// Joins an op computed outside this library (a fused kernel of a higher layer, e.g. the C-LoRA regulariser) to
    /// the graph, exactly as the built-in ops do: wraps <paramref name="result"/> (owned by the returned Var) and,
    /// when a tape records and some of <paramref name="inputs"/> requires grad, records <paramref name="backward"/>
    /// with <paramref name="saved"/> (owned by the node; released at once when nothing is recorded). The backward
    /// receives the output gradient, the gradient map to add each input's gradient into, and the saved tensors.
    /// </summary>
    public static Var Custom(Tensor result, IReadOnlyList<Var> inputs, Tensor[] saved, Action<Tensor, GradientMap, Tensor[]> backward)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(saved);
        ArgumentNullException.ThrowIfNull(backward);
        return Recorder.Result(Recorder.ShouldRecord([.. inputs]), result, saved, backward);
    }
}
