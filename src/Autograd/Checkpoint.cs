using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

/// <summary>
/// Gradient checkpointing of a block: the forward runs without recording (its activations are released at once);
/// backward runs the block's forward again on a private tape and back-propagates through it. Parameters the block
/// uses directly receive their gradients during that replay. Trades one extra forward for the block's activations.
/// </summary>
public static class Checkpoint
{
    /// <summary>Runs <paramref name="block"/> over <paramref name="inputs"/>, checkpointed when a tape is recording.</summary>
    public static Var Run(Func<IReadOnlyList<Var>, Var> block, params Var[] inputs)
    {
        if (Tape.Current is null) return block(inputs);
        Tensor result;
        using (Grad.NoGrad())
        using (var output = block(inputs))
            result = output.Value.Share();
        var saved = inputs.Select(v => v.Value.Share()).ToArray();
        // Record even when no input requires grad: parameters inside the block may.
        var outputVar = Var.Result(result, true);
        Tape.Current!.Add(new Node(outputVar, saved, (g, grads, s) => Replay(block, inputs, s, g, grads)));
        return outputVar;
    }

    private static void Replay(Func<IReadOnlyList<Var>, Var> block, Var[] inputs, Tensor[] saved, Tensor outputGrad, GradientMap grads)
    {
        // Stand-ins for the inputs: leaves that collect the gradient of an intermediate input, or the input itself
        // when it is already a leaf (its gradient then accumulates directly).
        var standIns = new Var[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
            standIns[i] = inputs[i].IsLeaf ? inputs[i]
                : inputs[i].RequiresGrad ? Var.Parameter(saved[i].Share()) : Var.Constant(saved[i].Share());
        try
        {
            using var tape = Tape.Record();
            using var output = block(standIns);
            if (output.RequiresGrad) tape.Backward(output, outputGrad);
            for (int i = 0; i < inputs.Length; i++)
                if (!inputs[i].IsLeaf && inputs[i].RequiresGrad && standIns[i].Grad is { } g)
                    grads.Accumulate(inputs[i], g.Share());
        }
        finally
        {
            for (int i = 0; i < inputs.Length; i++)
                if (!ReferenceEquals(standIns[i], inputs[i])) standIns[i].Dispose();
        }
    }
}
