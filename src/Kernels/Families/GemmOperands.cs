using ILGPU;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The operands of one product op(A) [M, K] · op(B) [K, N] as a tiled kernel's main loop reads them, element by
/// element: a plain matrix (<see cref="GemmOperands{TB}"/>), or one gathered on the fly, such as the im2col matrix of
/// an implicit-GEMM convolution (<see cref="ConvOperands{TB}"/>). The main loop calls <see cref="A"/> and
/// <see cref="B"/> only inside [M, K] and [K, N] and stores zeros elsewhere.
/// </summary>
internal interface IGemmOperands<TB> where TB : unmanaged
{
    int M { get; }

    int N { get; }

    int K { get; }

    /// <summary>Whether consecutive k of a row of op(A) are adjacent in memory (then threads walk k, so loads coalesce).</summary>
    bool AAlongK { get; }

    /// <summary>Whether consecutive k of a column of op(B) are adjacent in memory.</summary>
    bool BAlongK { get; }

    /// <summary>op(A)[m, k].</summary>
    float A(int m, int k);

    /// <summary>op(B)[k, n], not yet widened.</summary>
    TB B(int k, int n);
}

/// <summary>One batch of a <see cref="Gemm"/> product: the matrices addressed through <see cref="GemmLayout"/>'s strides.</summary>
internal readonly struct GemmOperands<TB> : IGemmOperands<TB> where TB : unmanaged
{
    private readonly ArrayView<float> a;
    private readonly ArrayView<TB> b;
    private readonly GemmLayout p;
    private readonly int aBase, bBase;

    public GemmOperands(ArrayView<float> a, ArrayView<TB> b, GemmLayout p, int batch)
    {
        this.a = a;
        this.b = b;
        this.p = p;
        aBase = batch * p.ABatch;
        bBase = batch * p.BBatch;
    }

    public int M => p.M;

    public int N => p.N;

    public int K => p.K;

    public bool AAlongK => p.AK == 1;

    public bool BAlongK => p.BK == 1;

    public float A(int m, int k) => a[aBase + m * p.ARow + k * p.AK];

    public TB B(int k, int n) => b[bBase + k * p.BK + n * p.BCol];
}
