using ILGPU;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// A convolution as a GEMM (implicit GEMM): op(A) is the im2col matrix [N·Hout·Wout, kh·kw·Cin] of the channels-last
/// input, gathered element by element as the main loop stages it (no im2col buffer), zero where a tap falls in the
/// padding; op(B) is the weight [Cout, kh·kw·Cin] used transposed, so the product is the output [N·Hout·Wout, Cout].
/// Row m is the output position (n, oh, ow) and column k the tap (ky, kx, ci), both in their memory order, so k is
/// contiguous in the input (within a tap) and in the weight.
/// </summary>
internal readonly struct ConvOperands<TB> : IGemmOperands<TB> where TB : unmanaged
{
    private readonly ArrayView<float> x;
    private readonly ArrayView<TB> weight;
    private readonly Conv2d.ConvGeometry g;

    public ConvOperands(ArrayView<float> x, ArrayView<TB> weight, Conv2d.ConvGeometry g)
    {
        this.x = x;
        this.weight = weight;
        this.g = g;
    }

    public int M => g.N * g.Hout * g.Wout;

    public int N => g.Cout;

    public int K => g.Kh * g.Kw * g.Cin;

    public bool AAlongK => true;

    public bool BAlongK => true;

    public float A(int m, int k)
    {
        int ow = m % g.Wout, rest = m / g.Wout;
        int oh = rest % g.Hout, n = rest / g.Hout;
        int ci = k % g.Cin, tap = k / g.Cin;
        int ih = oh * g.StrideH - g.PadTop + tap / g.Kw, iw = ow * g.StrideW - g.PadLeft + tap % g.Kw;
        return ih >= 0 && ih < g.H && iw >= 0 && iw < g.W ? x[((n * g.H + ih) * g.W + iw) * g.Cin + ci] : 0f;
    }

    public TB B(int k, int n) => weight[n * K + k];
}
