using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The CUDA-tuned forward convolution: an implicit GEMM (<see cref="ConvOperands{TB}"/>: M = N·Hout·Wout,
/// N = Cout, K = kh·kw·Cin, the im2col tile gathered into shared memory as it is staged) on the tiled GEMM's main
/// loop (<see cref="TiledGemm.Accumulate"/>: fp32, any weights) or the tensor-core GEMM's
/// (<see cref="TensorCoreGemm.Accumulate"/>: F16 weights, activations rounded to F16, fp32 accumulation), with bias
/// and residual fused into the epilogue (<see cref="ConvEpilogue{TB, TWiden}"/>). Block shapes are the GEMMs' own
/// shape types, so the CPU tests run the very same kernels with small tiles.
/// </summary>
/// <remarks>
/// The tensor-core variant runs inline PTX, which the CPU accelerator cannot; it is off by default
/// (<see cref="KernelPolicy.TensorCores"/>) and checks itself on first use (<see cref="Conv2dSelfCheck"/>).
/// </remarks>
internal static class Conv2dImplicitGemm
{
    /// <summary>The dispatcher's fp32 variant for <typeparamref name="TShape"/>: CUDA devices and a grid that fits.</summary>
    public static KernelVariant<Conv2d.ForwardArgs> Variant<TShape>(string name) where TShape : struct, ITiledGemmShape =>
        new(name, KernelTier.CudaTuned,
            (device, args) => device.Kind == DeviceKind.Cuda && Config(TiledGemm.Block<TShape>(), device, args) is not null,
            Launch<TShape>);

    /// <summary>
    /// The dispatcher's tensor-core variant for <typeparamref name="TShape"/>: CUDA devices with 32-lane warps,
    /// tensor cores enabled, F16 weights, a grid that fits.
    /// </summary>
    public static KernelVariant<Conv2d.ForwardArgs> TensorCoreVariant<TShape>(string name) where TShape : struct, ITensorCoreShape =>
        new(name, KernelTier.CudaTuned,
            (device, args) => device.Kind == DeviceKind.Cuda && KernelPolicy.TensorCores && args.Weight.DType == DType.F16
                && TensorCoreConfig<TShape>(device, args) is not null,
            LaunchTensorCores<TShape>);

    /// <summary>Runs a validated forward convolution with the fp32 kernel of <typeparamref name="TShape"/> on any device.</summary>
    /// <exception cref="InvalidOperationException">The group or grid does not fit the device.</exception>
    public static void Launch<TShape>(Device device, Conv2d.ForwardArgs args) where TShape : struct, ITiledGemmShape
    {
        var block = TiledGemm.Block<TShape>();
        var config = Config(block, device, args) ?? throw DoesNotFit(block, typeof(TShape).Name, device, args);
        var residual = args.Residual?.F32View ?? ArrayView<float>.Empty;
        if (args.Weight.DType == DType.F16)
            Tiled<Half, WidenF16, TShape>.Kernel.On(device.Accelerator)(device.Stream, config, args.X.F32View, args.Weight.F16View,
                args.Bias?.F16View ?? ArrayView<Half>.Empty, residual, args.Output.F32View, args.Geometry, args.Terms);
        else
            Tiled<float, WidenF32, TShape>.Kernel.On(device.Accelerator)(device.Stream, config, args.X.F32View, args.Weight.F32View,
                args.Bias?.F32View ?? ArrayView<float>.Empty, residual, args.Output.F32View, args.Geometry, args.Terms);
    }

    /// <summary>Runs a validated forward convolution whose weight is F16 with the tensor-core kernel of <typeparamref name="TShape"/>.</summary>
    /// <exception cref="InvalidOperationException">The weight is not F16, or the shape does not fit the device.</exception>
    public static void LaunchTensorCores<TShape>(Device device, Conv2d.ForwardArgs args) where TShape : struct, ITensorCoreShape
    {
        if (args.Weight.DType != DType.F16)
            throw new InvalidOperationException($"{typeof(TShape).Name}: the weight is {args.Weight.DType}; tensor cores take F16 weights.");
        var config = TensorCoreConfig<TShape>(device, args)
            ?? throw DoesNotFit(TensorCoreGemm.Block<TShape>(), typeof(TShape).Name, device, args);
        TensorCores<TShape>.Kernel.On(device.Accelerator)(device.Stream, config, args.X.F32View, args.Weight.F16View,
            args.Bias?.F16View ?? ArrayView<Half>.Empty, args.Residual?.F32View ?? ArrayView<float>.Empty, args.Output.F32View,
            args.Geometry, args.Terms);
    }

    private static KernelConfig? Config(GemmBlock block, Device device, Conv2d.ForwardArgs args) =>
        block.ConfigFor(device.Accelerator, 1, Rows(args.Geometry), args.Geometry.Cout);

    private static KernelConfig? TensorCoreConfig<TShape>(Device device, Conv2d.ForwardArgs args) where TShape : struct, ITensorCoreShape =>
        device.Accelerator.WarpSize == 32 && default(TShape).Depth % 16 == 0 ? Config(TensorCoreGemm.Block<TShape>(), device, args) : null;

    private static InvalidOperationException DoesNotFit(GemmBlock block, string kernel, Device device, Conv2d.ForwardArgs args) =>
        block.DoesNotFit(kernel, device, 1, Rows(args.Geometry), args.Geometry.Cout);

    private static int Rows(Conv2d.ConvGeometry g) => g.N * g.Hout * g.Wout;

    /// <summary>The fp32 entry point: <typeparamref name="TShape"/> names its register tile and runs <see cref="TiledBody{TB, TWiden}"/>.</summary>
    [Kernel(typeof(float), typeof(WidenF32), typeof(TiledGemm128), ExplicitlyGrouped = true)]
    [Kernel(typeof(Half), typeof(WidenF16), typeof(TiledGemm128), ExplicitlyGrouped = true)]
    internal static void TiledKernel<TB, TWiden, TShape>(ArrayView<float> x, ArrayView<TB> weight, ArrayView<TB> bias,
        ArrayView<float> residual, ArrayView<float> y, Conv2d.ConvGeometry g, Conv2d.ConvTerms terms)
        where TB : unmanaged
        where TWiden : struct, IWiden<TB>
        where TShape : struct, ITiledGemmShape =>
        default(TShape).Run(new TiledBody<TB, TWiden>(new(x, weight, g), new(bias, residual, y, g, terms)));

    /// <summary>The tensor-core entry point: <typeparamref name="TShape"/> names its warp tile and runs <see cref="TensorCoreBody"/>.</summary>
    [Kernel(typeof(TensorCoreGemm128), ExplicitlyGrouped = true)]
    internal static void TensorCoreKernel<TShape>(ArrayView<float> x, ArrayView<Half> weight, ArrayView<Half> bias,
        ArrayView<float> residual, ArrayView<float> y, Conv2d.ConvGeometry g, Conv2d.ConvTerms terms)
        where TShape : struct, ITensorCoreShape =>
        default(TShape).Run(new TensorCoreBody(new(x, weight, g), new(bias, residual, y, g, terms)));

    /// <summary>The fp32 kernel's body: the tiled main loop over the convolution's operands, then its epilogue.</summary>
    private readonly struct TiledBody<TB, TWiden>(ConvOperands<TB> operands, ConvEpilogue<TB, TWiden> epilogue) : ITiledBody
        where TB : unmanaged
        where TWiden : struct, IWiden<TB>
    {
        public void Run<TShape, TTile, TRow>()
            where TShape : struct, ITiledGemmShape
            where TTile : struct, IRegisterTile<TTile, TRow>
            where TRow : struct, IRegisters<TRow>
        {
            var sums = TiledGemm.Accumulate<TB, TWiden, TShape, TTile, TRow, ConvOperands<TB>>(operands);
            TiledGemm.Store<TShape, TTile, TRow, ConvEpilogue<TB, TWiden>>(sums, epilogue);
        }
    }

    /// <summary>The tensor-core kernel's body: the tensor-core main loop over the convolution's operands, then its epilogue.</summary>
    private readonly struct TensorCoreBody(ConvOperands<Half> operands, ConvEpilogue<Half, WidenF16> epilogue) : ITensorCoreBody
    {
        public void Run<TShape, TTile>()
            where TShape : struct, ITensorCoreShape
            where TTile : struct, IMmaTile<TTile>
        {
            var sums = TensorCoreGemm.Accumulate<TShape, TTile, ConvOperands<Half>>(operands);
            TensorCoreGemm.Store<TShape, TTile, ConvEpilogue<Half, WidenF16>>(sums, epilogue);
        }
    }

    /// <summary>The fp32 kernel of one instantiation, loaded once per accelerator.</summary>
    private static class Tiled<TB, TWiden, TShape>
        where TB : unmanaged
        where TWiden : struct, IWiden<TB>
        where TShape : struct, ITiledGemmShape
    {
        public static readonly GroupedKernel<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<TB>, ArrayView<TB>,
            ArrayView<float>, ArrayView<float>, Conv2d.ConvGeometry, Conv2d.ConvTerms>> Kernel =
            new(accelerator => accelerator.LoadKernel<ArrayView<float>, ArrayView<TB>, ArrayView<TB>, ArrayView<float>, ArrayView<float>,
                Conv2d.ConvGeometry, Conv2d.ConvTerms>(TiledKernel<TB, TWiden, TShape>), TiledGemm.Block<TShape>().SharedBytes);
    }

    /// <summary>The tensor-core kernel of one shape, loaded once per accelerator.</summary>
    private static class TensorCores<TShape> where TShape : struct, ITensorCoreShape
    {
        public static readonly GroupedKernel<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<Half>, ArrayView<Half>,
            ArrayView<float>, ArrayView<float>, Conv2d.ConvGeometry, Conv2d.ConvTerms>> Kernel =
            new(accelerator => accelerator.LoadKernel<ArrayView<float>, ArrayView<Half>, ArrayView<Half>, ArrayView<float>, ArrayView<float>,
                Conv2d.ConvGeometry, Conv2d.ConvTerms>(TensorCoreKernel<TShape>), TensorCoreGemm.Block<TShape>().SharedBytes);
    }
}
