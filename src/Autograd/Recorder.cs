using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

/// <summary>How ops join the graph: a result records a backward node only when a tape is recording and an input requires grad.</summary>
internal static class Recorder
{
    /// <summary>True when an op over <paramref name="inputs"/> must record its backward.</summary>
    public static bool ShouldRecord(params Var?[] inputs)
    {
        if (Tape.Current is null) return false;
        foreach (var v in inputs)
            if (v is not null && v.RequiresGrad) return true;
        return false;
    }

    /// <summary>
    /// Wraps <paramref name="result"/> (owned by the returned Var) and, if <paramref name="record"/>, records a node
    /// that owns <paramref name="saved"/>; otherwise the saved tensors are released at once.
    /// </summary>
    public static Var Result(bool record, Tensor result, Tensor[] saved, Action<Tensor, GradientMap, Tensor[]> backward)
    {
        if (!record)
        {
            foreach (var t in saved) t.Dispose();
            return Var.Result(result, false);
        }
        var output = Var.Result(result, true);
        Tape.Current!.Add(new Node(output, saved, backward));
        return output;
    }
}
