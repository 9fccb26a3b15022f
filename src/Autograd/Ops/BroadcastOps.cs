using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

public static partial class Ops
{
    /// <summary>a ⊙ b (same shape).</summary>
    public static Var Mul(Var a, Var b)
    {
        var y = Compute(a.Device, a.Shape, o => Elementwise.Mul(a.Value, b.Value, o));
        bool needA = b.RequiresGrad, needB = a.RequiresGrad;
        return Recorder.Result(Recorder.ShouldRecord(a, b), y, KeepEither(needA, a, needB, b), (g, grads, s) =>
        {
            var (av, bv) = Kept(s, needA, needB);
            if (bv is not null) grads.Accumulate(a, Compute(g.Device, a.Shape, da => Elementwise.Mul(g, bv, da)));
            if (av is not null) grads.Accumulate(b, Compute(g.Device, b.Shape, db => Elementwise.Mul(g, av, db)));
        });
    }

    /// <summary>x [.., C] + vector [C] (a bias).</summary>
    public static Var AddLastDim(Var x, Var vector) =>
        BroadcastAdd(x, vector, Broadcast.AddLastDim, Broadcast.AddLastDimBackward);

    /// <summary>x [N, .., C] + perSample [N, C] (the time embedding added into resnet features).</summary>
    public static Var AddPerSample(Var x, Var perSample) =>
        BroadcastAdd(x, perSample, Broadcast.AddPerSample, Broadcast.AddPerSampleBackward);

    /// <summary>x [.., C] ⊙ vector [C] (a per-channel scale).</summary>
    public static Var MulLastDim(Var x, Var vector) =>
        BroadcastMul(x, vector, Broadcast.MulLastDim, Broadcast.MulLastDimBackward);

    /// <summary>x [N, .., C] ⊙ perSample [N, C].</summary>
    public static Var MulPerSample(Var x, Var perSample) =>
        BroadcastMul(x, perSample, Broadcast.MulPerSample, Broadcast.MulPerSampleBackward);

    /// <summary>x + a broadcast operand: x's gradient is the output gradient itself, the operand's a reduction of it.</summary>
    private static Var BroadcastAdd(Var x, Var operand, Action<Tensor, Tensor, Tensor> forward, Action<Tensor, Tensor> operandGrad)
    {
        var y = Compute(x.Device, x.Shape, o => forward(x.Value, operand.Value, o));
        return Recorder.Result(Recorder.ShouldRecord(x, operand), y, [], (g, grads, _) =>
        {
            if (x.RequiresGrad) grads.Accumulate(x, g.Share());
            if (operand.RequiresGrad) grads.Accumulate(operand, Compute(g.Device, operand.Shape, d => operandGrad(g, d)));
        });
    }

    /// <summary>
    /// x ⊙ a broadcast operand: x's gradient is the output gradient times the operand (the forward kernel again), the
    /// operand's a reduction of output gradient ⊙ x, so x is kept only when the operand trains.
    /// </summary>
    private static Var BroadcastMul(Var x, Var operand, Action<Tensor, Tensor, Tensor> forward,
        Action<Tensor, Tensor, Tensor, Tensor?, Tensor?> backward)
    {
        var y = Compute(x.Device, x.Shape, o => forward(x.Value, operand.Value, o));
        Tensor[] saved = [operand.Value.Share(), .. operand.RequiresGrad ? [x.Value.Share()] : Array.Empty<Tensor>()];
        return Recorder.Result(Recorder.ShouldRecord(x, operand), y, saved, (g, grads, s) =>
        {
            if (x.RequiresGrad) grads.Accumulate(x, Compute(g.Device, x.Shape, dx => forward(g, s[0], dx)));
            if (operand.RequiresGrad) grads.Accumulate(operand, Compute(g.Device, operand.Shape, d => backward(s[1], s[0], g, null, d)));
        });
    }
}
