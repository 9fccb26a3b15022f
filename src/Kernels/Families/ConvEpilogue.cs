using ILGPU;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The implicit-GEMM convolution's epilogue: output element (position m, channel co) of the [N·Hout·Wout, Cout]
/// product becomes sum + bias[co] (when present) + residual[m, co] (when present: the shortcut a resnet block adds),
/// in the order of <see cref="Conv2d"/>'s portable kernel, written once into the channels-last output.
/// </summary>
internal readonly struct ConvEpilogue<TB, TWiden> : IGemmEpilogue
    where TB : unmanaged
    where TWiden : struct, IWiden<TB>
{
    private readonly ArrayView<TB> bias;
    private readonly ArrayView<float> residual;
    private readonly ArrayView<float> y;
    private readonly Conv2d.ConvGeometry g;
    private readonly Conv2d.ConvTerms terms;

    public ConvEpilogue(ArrayView<TB> bias, ArrayView<float> residual, ArrayView<float> y, Conv2d.ConvGeometry g, Conv2d.ConvTerms terms)
    {
        this.bias = bias;
        this.residual = residual;
        this.y = y;
        this.g = g;
        this.terms = terms;
    }

    public void Write(int row, int col, float sum)
    {
        if (row >= g.N * g.Hout * g.Wout || col >= g.Cout) return;
        int i = row * g.Cout + col;
        y[i] = terms.Finish<TB, TWiden>(sum, bias, residual, col, i);
    }
}
