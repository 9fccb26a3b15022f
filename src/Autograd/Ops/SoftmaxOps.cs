using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

public static partial class Ops
{
    /// <summary>softmax(scale · x) over the last axis, optionally with a causal mask over square [.., L, L] blocks.</summary>
    public static Var Softmax(Var x, float scale = 1f, bool causal = false)
    {
        var y = Kernels.Softmax.Forward(x.Value, scale, causal);
        return Recorder.Result(Recorder.ShouldRecord(x), y, [y.Share()],
            (g, grads, s) => grads.Accumulate(x, Kernels.Softmax.Backward(s[0], g, scale)));
    }
}
