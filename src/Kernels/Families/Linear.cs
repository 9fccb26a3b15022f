using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// A fully connected layer in PyTorch's convention: y = x · Wᵀ + b with W [out, in], every leading dimension of x
/// flattened into rows. Over channels-last activations a 1×1 convolution is exactly this op on [N·H·W, C] (its
/// weight [Cout, Cin, 1, 1] reshaped to [Cout, Cin]), and so are the attention projections on [N, L, C].
/// The backward is split into one op per gradient, so a frozen weight costs only <see cref="BackwardInput"/> and
/// the tape need not keep x alive for it; each gradient can overwrite or accumulate (autograd sums the
/// contributions of every use of a tensor).
/// </summary>
public static class Linear
{
    private const string ForwardName = nameof(Linear) + "." + nameof(Forward);
    private const string InputName = nameof(Linear) + "." + nameof(BackwardInput);
    private const string WeightName = nameof(Linear) + "." + nameof(BackwardWeight);
    private const string BiasName = nameof(Linear) + "." + nameof(BackwardBias);

    private static readonly OpDispatcher<BiasGradArgs> biasDispatcher =
        new(new KernelVariant<BiasGradArgs>("linear-bias-grad-portable", KernelTier.Portable, (_, _) => true, LaunchBiasGradPortable));

    /// <summary>
    /// y [.., out] = x [.., in] · weightᵀ + bias. x is F32; weight [out, in] is F32 or F16; bias [out], optional,
    /// has the weight's dtype. The bias is added in the GEMM's epilogue (no extra pass).
    /// </summary>
    /// <exception cref="ArgumentException">A dtype or shape does not fit.</exception>
    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias = null)
    {
        var (rows, inFeatures) = Rows(ForwardName, nameof(x), x);
        int outFeatures = Weight(ForwardName, weight, x.Device);
        if (weight.Shape[1] != inFeatures)
            throw new ArgumentException(
                $"{ForwardName}: x has shape {x.Shape} ({inFeatures} features) but weight {weight.Shape} expects {weight.Shape[1]}.", nameof(x));
        if (bias is not null)
        {
            Require.DType(ForwardName, nameof(bias), bias, weight.DType);
            Require.SameDevice(ForwardName, nameof(bias), bias, x.Device);
            Require.Shape(ForwardName, nameof(bias), bias, outFeatures);
        }
        var y = Tensor.Empty(x.Device, DType.F32, WithLast(x.Shape, outFeatures));
        Gemm.Launch(x.Device, new GemmArgs(x, weight, y, bias, 1, rows, outFeatures, inFeatures,
            TransA: false, TransB: true, ShareA: true, ShareB: true, Alpha: 1f, Beta: 0f));
        return y;
    }

    /// <summary>
    /// dx [.., in] = dy [.., out] · weight (or dx += … with <paramref name="accumulate"/>); weight is F32 or F16.
    /// The only gradient a frozen weight needs.
    /// </summary>
    /// <exception cref="ArgumentException">A dtype or shape does not fit, or dx shares storage with dy.</exception>
    public static void BackwardInput(Tensor dy, Tensor weight, Tensor dx, bool accumulate = false)
    {
        var (rows, outFeatures) = Rows(InputName, nameof(dy), dy);
        Weight(InputName, weight, dy.Device);
        if (weight.Shape[0] != outFeatures)
            throw new ArgumentException(
                $"{InputName}: dy has shape {dy.Shape} ({outFeatures} features) but weight {weight.Shape} has {weight.Shape[0]} outputs.", nameof(dy));
        int inFeatures = weight.Shape[1];
        Require.DType(InputName, nameof(dx), dx, DType.F32);
        Require.SameDevice(InputName, nameof(dx), dx, dy.Device);
        Require.Shape(InputName, nameof(dx), dx, WithLast(dy.Shape, inFeatures));
        Require.Distinct(InputName, nameof(dx), dx, dy, nameof(dy));
        Gemm.Launch(dy.Device, new GemmArgs(dy, weight, dx, null, 1, rows, inFeatures, outFeatures,
            TransA: false, TransB: false, ShareA: true, ShareB: true, Alpha: 1f, Beta: accumulate ? 1f : 0f));
    }

    /// <summary>dWeight [out, in] = dyᵀ · x over all rows (or dWeight += … with <paramref name="accumulate"/>); all F32.</summary>
    /// <exception cref="ArgumentException">A dtype or shape does not fit, or dWeight shares storage with dy or x.</exception>
    public static void BackwardWeight(Tensor dy, Tensor x, Tensor dWeight, bool accumulate = false)
    {
        var (rows, outFeatures) = Rows(WeightName, nameof(dy), dy);
        var (xRows, inFeatures) = Rows(WeightName, nameof(x), x);
        Require.SameDevice(WeightName, nameof(x), x, dy.Device);
        if (!Leading(x.Shape).SequenceEqual(Leading(dy.Shape)))
            throw new ArgumentException(
                $"{WeightName}: x has shape {x.Shape} ({xRows} rows) but dy has {dy.Shape} ({rows} rows); their leading dimensions must agree.", nameof(x));
        Require.DType(WeightName, nameof(dWeight), dWeight, DType.F32);
        Require.SameDevice(WeightName, nameof(dWeight), dWeight, dy.Device);
        Require.Shape(WeightName, nameof(dWeight), dWeight, outFeatures, inFeatures);
        Require.Distinct(WeightName, nameof(dWeight), dWeight, dy, nameof(dy));
        Require.Distinct(WeightName, nameof(dWeight), dWeight, x, nameof(x));
        Gemm.Launch(dy.Device, new GemmArgs(dy, x, dWeight, null, 1, outFeatures, inFeatures, rows,
            TransA: true, TransB: false, ShareA: true, ShareB: true, Alpha: 1f, Beta: accumulate ? 1f : 0f));
    }

    /// <summary>dBias [out] = Σ over rows of dy [.., out] (or dBias += … with <paramref name="accumulate"/>); all F32. Deterministic.</summary>
    /// <exception cref="ArgumentException">A dtype or shape does not fit, or dBias shares storage with dy.</exception>
    public static void BackwardBias(Tensor dy, Tensor dBias, bool accumulate = false)
    {
        var (rows, outFeatures) = Rows(BiasName, nameof(dy), dy);
        Require.DType(BiasName, nameof(dBias), dBias, DType.F32);
        Require.SameDevice(BiasName, nameof(dBias), dBias, dy.Device);
        Require.Shape(BiasName, nameof(dBias), dBias, outFeatures);
        Require.Distinct(BiasName, nameof(dBias), dBias, dy, nameof(dy));
        biasDispatcher.Launch(dy.Device, new BiasGradArgs(dy, dBias, rows, outFeatures, accumulate));
    }

    /// <summary>Checks an F32 activation of rank ≥ 1 and returns (rows = product of leading dims, features = last dim).</summary>
    private static (int Rows, int Features) Rows(string op, string name, Tensor t)
    {
        Require.DType(op, name, t, DType.F32);
        int features = t.Shape[^1];
        return (t.Count / features, features);
    }

    /// <summary>Checks an F32/F16 weight [out, in] on <paramref name="device"/> and returns out.</summary>
    private static int Weight(string op, Tensor weight, Device device)
    {
        Require.DType(op, nameof(weight), weight, DType.F32, DType.F16);
        Require.SameDevice(op, nameof(weight), weight, device);
        Require.Rank(op, nameof(weight), weight, 2);
        return weight.Shape[0];
    }

    private static int[] Leading(Shape shape) => shape.ToArray()[..^1];

    private static int[] WithLast(Shape shape, int last) => [.. Leading(shape), last];

    private static void LaunchBiasGradPortable(Device device, BiasGradArgs args) =>
        device.Accelerator.LaunchAutoGrouped(BiasGradKernel, device.Stream, new Index1D(args.Columns),
            args.Dy.F32View, args.Rows, args.Columns, args.DBias.F32View, args.Accumulate ? 1 : 0);

    /// <summary>One thread per bias element, summing its column of dy over all rows in order (no atomics).</summary>
    [Kernel]
    internal static void BiasGradKernel(Index1D col, ArrayView<float> dy, int rows, int columns, ArrayView<float> dBias, int accumulate)
    {
        float sum = 0f;
        for (int r = 0; r < rows; r++) sum += dy[r * columns + col];
        dBias[col] = accumulate != 0 ? dBias[col] + sum : sum;
    }
}

/// <summary>A validated bias gradient: dBias [Columns] (+)= Σ_rows dy [Rows, Columns].</summary>
internal readonly record struct BiasGradArgs(Tensor Dy, Tensor DBias, int Rows, int Columns, bool Accumulate);
