namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The GEGLU feed-forward's first half in one op: y [.., Inner] = hidden · GELU(gate), where (hidden, gate) are the
/// two halves of x [.., C] · weightᵀ + bias with weight [2·Inner, C] (diffusers' <c>ff.net.0.proj</c>). Exactly
/// <see cref="Linear.Forward"/> followed by <see cref="Activation.Geglu"/>, which is what the portable tier runs;
/// on CUDA the activation is fused into the GEMM's epilogue (<see cref="GegluGemm"/>). Forward only: training
/// keeps the projection for the backward pass and uses the two ops.
/// </summary>
public static class LinearGeglu
{
    private const string ForwardName = nameof(LinearGeglu) + "." + nameof(Forward);

    /// <summary>The portable composition: what the CPU accelerator runs, and the reference the fused kernel is checked against.</summary>
    internal static readonly KernelVariant<Args> Portable =
        new("linear-geglu-portable", KernelTier.Portable, (_, _) => true, LaunchPortable);

    /// <summary>
    /// On CUDA: the fused kernel on tensor cores for F16 weights when enabled and self-checked
    /// (<see cref="KernelPolicy.TensorCores"/>), else the fused tiled fp32 kernel; the composition everywhere else.
    /// </summary>
    private static readonly OpDispatcher<Args> dispatcher = new(Portable,
        GegluSelfCheck.Guard(GegluGemm.TensorCoreVariant<TensorCoreGemm128>("linear-geglu-tensor-core-128x128x32"), Portable).Variant,
        GegluGemm.Variant<TiledGemm128>("linear-geglu-tiled-128x128x8"));

    /// <summary>
    /// y [.., Inner] = GEGLU(x [.., C] · weightᵀ + bias). x is F32; weight [2·Inner, C] is F32 or F16; bias
    /// [2·Inner], optional, has the weight's dtype.
    /// </summary>
    /// <exception cref="ArgumentException">A dtype or shape does not fit.</exception>
    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias = null)
    {
        var args = Arguments(x, weight, bias);
        try
        {
            dispatcher.Launch(x.Device, args);
        }
        catch
        {
            args.Output.Dispose();
            throw;
        }
        return args.Output;
    }

    /// <summary>Validates <see cref="Forward"/>'s operands and allocates its output.</summary>
    internal static Args Arguments(Tensor x, Tensor weight, Tensor? bias)
    {
        Require.DType(ForwardName, nameof(x), x, DType.F32);
        Require.MinRank(ForwardName, nameof(x), x, 1);
        Require.DType(ForwardName, nameof(weight), weight, DType.F32, DType.F16);
        Require.SameDevice(ForwardName, nameof(weight), weight, x.Device);
        Require.Rank(ForwardName, nameof(weight), weight, 2);
        int inFeatures = x.Shape[^1], projected = weight.Shape[0];
        Require.That(projected % 2 == 0, ForwardName, nameof(weight),
            $"weight {weight.Shape} must have an even number of outputs (the hidden and gate halves).");
        Require.That(weight.Shape[1] == inFeatures, ForwardName, nameof(x),
            $"x has shape {x.Shape} ({inFeatures} features) but weight {weight.Shape} expects {weight.Shape[1]}.");
        if (bias is not null)
        {
            Require.DType(ForwardName, nameof(bias), bias, weight.DType);
            Require.SameDevice(ForwardName, nameof(bias), bias, x.Device);
            Require.Shape(ForwardName, nameof(bias), bias, projected);
        }
        int inner = projected / 2, rows = x.Count / inFeatures;
        var output = Tensor.Empty(x.Device, DType.F32, [.. x.Shape.ToArray()[..^1], inner]);
        return new Args(x, weight, bias, output, new GegluLayout(rows, inner, inFeatures, bias is null ? 0 : 1));
    }

    /// <summary>The variant <see cref="Forward"/> runs for these arguments on this device.</summary>
    internal static KernelVariant<Args> Select(Device device, Args args) => dispatcher.Select(device, args);

    private static void LaunchPortable(Device device, Args args)
    {
        using var projected = Linear.Forward(args.X, args.Weight, args.Bias);
        Activation.Geglu(projected, args.Output);
    }

    /// <summary>A validated fused projection + GEGLU, with its output allocated.</summary>
    internal readonly record struct Args(Tensor X, Tensor Weight, Tensor? Bias, Tensor Output, GegluLayout Layout);
}
