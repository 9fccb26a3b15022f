using ILGPU;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The last step of a tiled kernel: what becomes of the finished sum of output element (row, col). Row and column
/// are those of the kernel's product (<see cref="IGemmOperands{TB}"/>) and may lie outside it when a block tile
/// overhangs the matrix, in which case the element is skipped.
/// </summary>
internal interface IGemmEpilogue
{
    void Write(int row, int col, float sum);
}

/// <summary>
/// The last step of a tiled kernel that computes two products side by side (<see cref="IRegisters{TSelf}.StoreHalves"/>):
/// the sums of element (row, col) of the first and of the matching element of the second.
/// </summary>
internal interface IGemmPairEpilogue
{
    void Write(int row, int col, float first, float second);
}

/// <summary>
/// The GEMM's epilogue, written once for every tuned GEMM kernel: element (row, col) of batch <c>batch</c> becomes
/// alpha · sum (+ bias[col]) (+ beta · C), in the order <see cref="Gemm.GemmKernel{TB, TWiden}"/> uses, and C is not
/// read when beta = 0. Elements outside [M, N] are skipped, so a block tile may overhang the matrix.
/// </summary>
internal readonly struct GemmEpilogue<TB, TWiden> : IGemmEpilogue
    where TB : unmanaged
    where TWiden : struct, IWiden<TB>
{
    private readonly ArrayView<TB> bias;
    private readonly ArrayView<float> c;
    private readonly GemmLayout p;
    private readonly int batchOffset;

    public GemmEpilogue(ArrayView<TB> bias, ArrayView<float> c, GemmLayout p, int batch)
    {
        this.bias = bias;
        this.c = c;
        this.p = p;
        batchOffset = batch * p.M * p.N;
    }

    public void Write(int row, int col, float sum)
    {
        if (row >= p.M || col >= p.N) return;
        int i = batchOffset + row * p.N + col;
        float result = p.Alpha * sum;
        if (p.HasBias != 0) result += default(TWiden).ToFloat(bias[col]);
        if (p.Beta != 0f) result += p.Beta * c[i];
        c[i] = result;
    }
}
