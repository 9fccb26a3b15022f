using ILGPU;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The GEGLU feed-forward's projection x [Rows, C] · Wᵀ with W [2·Inner, C], its columns rearranged so that each
/// hidden column and its gate column land in one thread: the product's columns come in groups of 2·<c>half</c>,
/// group q holding hidden columns q·half … q·half + half − 1 and then the gate columns Inner + the same, zero
/// beyond Inner. A kernel whose threads own column c and column c + half of each group
/// (<see cref="TiledGemm.StoreHalves"/>) then sees each (hidden, gate) pair together (<see cref="GegluEpilogue{TB, TWiden}"/>).
/// </summary>
internal readonly struct GegluOperands<TB> : IGemmOperands<TB> where TB : unmanaged
{
    private readonly ArrayView<float> x;
    private readonly ArrayView<TB> weight;
    private readonly GegluLayout p;
    private readonly int half;

    public GegluOperands(ArrayView<float> x, ArrayView<TB> weight, GegluLayout p, int half)
    {
        this.x = x;
        this.weight = weight;
        this.p = p;
        this.half = half;
    }

    public int M => p.Rows;

    /// <summary>Whole groups covering Inner.</summary>
    public int N => (p.Inner + half - 1) / half * 2 * half;

    public int K => p.InFeatures;

    public bool AAlongK => true;

    public bool BAlongK => true;

    public float A(int m, int k) => x[m * p.InFeatures + k];

    public TB B(int k, int n)
    {
        int group = n / (2 * half), column = n % (2 * half);
        int feature = group * half + column % half;
        if (feature >= p.Inner) return default;
        return weight[(column < half ? feature : p.Inner + feature) * p.InFeatures + k];
    }
}

/// <summary>
/// The fused GEGLU epilogue: the pair (hidden sum, gate sum) of product column n (&lt; half within its group, see
/// <see cref="GegluOperands{TB}"/>) becomes output[row, f] = (hidden + bias[f]) · GELU(gate + bias[Inner + f]), the
/// arithmetic of <see cref="Linear"/>'s epilogue followed by <see cref="Activation.Geglu"/>.
/// </summary>
internal readonly struct GegluEpilogue<TB, TWiden> : IGemmPairEpilogue
    where TB : unmanaged
    where TWiden : struct, IWiden<TB>
{
    private readonly ArrayView<TB> bias;
    private readonly ArrayView<float> output;
    private readonly GegluLayout p;
    private readonly int half;

    public GegluEpilogue(ArrayView<TB> bias, ArrayView<float> output, GegluLayout p, int half)
    {
        this.bias = bias;
        this.output = output;
        this.p = p;
        this.half = half;
    }

    public void Write(int row, int col, float first, float second)
    {
        int feature = col / (2 * half) * half + col % (2 * half);
        if (row >= p.Rows || feature >= p.Inner) return;
        float hidden = first, gate = second;
        if (p.HasBias != 0)
        {
            hidden += default(TWiden).ToFloat(bias[feature]);
            gate += default(TWiden).ToFloat(bias[p.Inner + feature]);
        }
        output[row * p.Inner + feature] = hidden * default(GeluErf).Apply(gate);
    }
}

/// <summary>The sizes of a fused projection + GEGLU: x [Rows, InFeatures], weight [2·Inner, InFeatures], output [Rows, Inner].</summary>
internal readonly record struct GegluLayout(int Rows, int Inner, int InFeatures, int HasBias);
