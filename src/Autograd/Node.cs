using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

/// <summary>
/// One recorded op: the result it produced, the tensors its backward needs (owned by the node, so the caller may
/// dispose the forward Vars), and the backward itself, which receives the output gradient and adds the gradient
/// of each input that requires grad into the <see cref="GradientMap"/>.
/// </summary>
internal sealed class Node : IDisposable
{
    private readonly Tensor[] saved;
    private readonly Action<Tensor, GradientMap, Tensor[]> backward;

    public Node(Var output, Tensor[] saved, Action<Tensor, GradientMap, Tensor[]> backward)
    {
        Output = output;
        this.saved = saved;
        this.backward = backward;
    }

    public Var Output { get; }

    public void Backward(Tensor outputGrad, GradientMap grads) => backward(outputGrad, grads, saved);

    public void Dispose()
    {
        foreach (var t in saved) t.Dispose();
    }
}
