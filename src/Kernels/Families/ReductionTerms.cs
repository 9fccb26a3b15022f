using ILGPU;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The value a reduction kernel adds up for flat element i, passed as a generic struct argument that carries its
/// own views, so one summation kernel serves plain sums, dot products and squared errors.
/// </summary>
internal interface IElementTerm
{
    float At(int i);
}

/// <summary>x[i].</summary>
internal readonly struct ValueTerm(ArrayView<float> x) : IElementTerm
{
    private readonly ArrayView<float> x = x;

    public float At(int i) => x[i];
}

/// <summary>a[i] · b[i].</summary>
internal readonly struct ProductTerm(ArrayView<float> a, ArrayView<float> b) : IElementTerm
{
    private readonly ArrayView<float> a = a;
    private readonly ArrayView<float> b = b;

    public float At(int i) => a[i] * b[i];
}

/// <summary>(a[i] − b[i])².</summary>
internal readonly struct SquaredErrorTerm(ArrayView<float> a, ArrayView<float> b) : IElementTerm
{
    private readonly ArrayView<float> a = a;
    private readonly ArrayView<float> b = b;

    public float At(int i)
    {
        float d = a[i] - b[i];
        return d * d;
    }
}

/// <summary>1: the weight of an unweighted loss.</summary>
internal readonly struct OneTerm : IElementTerm
{
    public float At(int i) => 1f;
}

/// <summary>w[i / perSample]: the weight of the batch sample that flat element i belongs to.</summary>
internal readonly struct SampleWeightTerm(ArrayView<float> weights, int perSample) : IElementTerm
{
    private readonly ArrayView<float> weights = weights;
    private readonly int perSample = perSample;

    public float At(int i) => weights[i / perSample];
}

/// <summary>w[i / perSample] · (a[i] − b[i])²: a squared error weighted per sample of a batch.</summary>
internal readonly struct WeightedSquaredErrorTerm(SquaredErrorTerm error, SampleWeightTerm weight) : IElementTerm
{
    private readonly SquaredErrorTerm error = error;
    private readonly SampleWeightTerm weight = weight;

    public float At(int i) => weight.At(i) * error.At(i);
}
