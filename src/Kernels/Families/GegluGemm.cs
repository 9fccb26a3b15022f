using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The CUDA-tuned fused feed-forward projection + GEGLU (<see cref="LinearGeglu"/>): the tiled GEMM's main loop
/// (<see cref="TiledGemm.Accumulate"/>, fp32, F32 or F16 weights) or the tensor-core GEMM's
/// (<see cref="TensorCoreGemm.Accumulate"/>, F16 weights) over <see cref="GegluOperands{TB}"/>, which puts each
/// hidden column and its gate column in the two halves of one thread's register row (of one warp's tile row), and
/// the epilogue <see cref="GegluEpilogue{TB, TWiden}"/> writes hidden · GELU(gate) straight into [Rows, Inner]: the
/// [Rows, 2·Inner] projection never reaches memory. Block shapes are the GEMMs' own, with an even number of columns
/// per thread (of m16n8 tiles per warp row).
/// </summary>
/// <remarks>
/// The tensor-core variant runs inline PTX: off by default (<see cref="KernelPolicy.TensorCores"/>) and self-checked
/// on first use (<see cref="GegluSelfCheck"/>).
/// </remarks>
internal static class GegluGemm
{
    /// <summary>The dispatcher's variant for <typeparamref name="TShape"/>: CUDA devices and a grid that fits.</summary>
    public static KernelVariant<LinearGeglu.Args> Variant<TShape>(string name) where TShape : struct, ITiledGemmShape =>
        new(name, KernelTier.CudaTuned,
            (device, args) => device.Kind == DeviceKind.Cuda && Config<TShape>(device, args) is not null,
            Launch<TShape>);

    /// <summary>
    /// The dispatcher's tensor-core variant for <typeparamref name="TShape"/>: CUDA devices with 32-lane warps, tensor
    /// cores enabled, F16 weights, a grid that fits.
    /// </summary>
    public static KernelVariant<LinearGeglu.Args> TensorCoreVariant<TShape>(string name) where TShape : struct, ITensorCoreShape =>
        new(name, KernelTier.CudaTuned,
            (device, args) => device.Kind == DeviceKind.Cuda && KernelPolicy.TensorCores && args.Weight.DType == DType.F16
                && TensorCoreConfig<TShape>(device, args) is not null,
            LaunchTensorCores<TShape>);

    /// <summary>Runs a validated fused projection + GEGLU with <typeparamref name="TShape"/> on any device (the CPU accelerator too, for tests).</summary>
    /// <exception cref="InvalidOperationException">The shape has an odd number of columns per thread, or does not fit the device.</exception>
    public static void Launch<TShape>(Device device, LinearGeglu.Args args) where TShape : struct, ITiledGemmShape
    {
        if (default(TShape).ColsPerThread % 2 != 0)
            throw new InvalidOperationException($"{typeof(TShape).Name}: pairing hidden and gate columns needs an even number of columns per thread.");
        var config = Config<TShape>(device, args)
            ?? throw TiledGemm.Block<TShape>().DoesNotFit(typeof(TShape).Name, device, 1, args.Layout.Rows, Columns<TShape>(args.Layout));
        if (args.Weight.DType == DType.F16)
            Loaded<Half, WidenF16, TShape>.Kernel.On(device.Accelerator)(device.Stream, config,
                args.X.F32View, args.Weight.F16View, args.Bias?.F16View ?? ArrayView<Half>.Empty, args.Output.F32View, args.Layout);
        else
            Loaded<float, WidenF32, TShape>.Kernel.On(device.Accelerator)(device.Stream, config,
                args.X.F32View, args.Weight.F32View, args.Bias?.F32View ?? ArrayView<float>.Empty, args.Output.F32View, args.Layout);
    }

    /// <summary>
    /// Runs a validated fused projection + GEGLU whose weight is F16 with the tensor-core kernel of
    /// <typeparamref name="TShape"/> on any device with 32-lane warps (the CPU accelerator through the mma fallback).
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// The weight is not F16, the warp tile is an odd number of m16n8 tiles wide, or the shape does not fit the device.
    /// </exception>
    public static void LaunchTensorCores<TShape>(Device device, LinearGeglu.Args args) where TShape : struct, ITensorCoreShape
    {
        if (args.Weight.DType != DType.F16)
            throw new InvalidOperationException($"{typeof(TShape).Name}: the weight is {args.Weight.DType}; tensor cores take F16 weights.");
        if (default(TShape).TileCols % 2 != 0)
            throw new InvalidOperationException($"{typeof(TShape).Name}: pairing hidden and gate columns needs an even number of tiles per warp row.");
        var config = TensorCoreConfig<TShape>(device, args)
            ?? throw TensorCoreGemm.Block<TShape>().DoesNotFit(typeof(TShape).Name, device, 1, args.Layout.Rows, Columns(args.Layout, WarpHalf<TShape>()));
        TensorCores<TShape>.Kernel.On(device.Accelerator)(device.Stream, config,
            args.X.F32View, args.Weight.F16View, args.Bias?.F16View ?? ArrayView<Half>.Empty, args.Output.F32View, args.Layout);
    }

    private static KernelConfig? Config<TShape>(Device device, LinearGeglu.Args args) where TShape : struct, ITiledGemmShape =>
        TiledGemm.Block<TShape>().ConfigFor(device.Accelerator, 1, args.Layout.Rows, Columns<TShape>(args.Layout));

    private static KernelConfig? TensorCoreConfig<TShape>(Device device, LinearGeglu.Args args) where TShape : struct, ITensorCoreShape =>
        device.Accelerator.WarpSize == 32 && default(TShape).Depth % 16 == 0
            ? TensorCoreGemm.Block<TShape>().ConfigFor(device.Accelerator, 1, args.Layout.Rows, Columns(args.Layout, WarpHalf<TShape>()))
            : null;

    /// <summary>The width of the rearranged product (<see cref="GegluOperands{TB}.N"/>) for the block of <typeparamref name="TShape"/>.</summary>
    private static int Columns<TShape>(GegluLayout layout) where TShape : struct, ITiledGemmShape => Columns(layout, Half<TShape>());

    /// <summary>The width of the rearranged product (<see cref="GegluOperands{TB}.N"/>) for groups of 2 · <paramref name="half"/> columns.</summary>
    private static int Columns(GegluLayout layout, int half) => (layout.Inner + half - 1) / half * 2 * half;

    /// <summary>Half the block's columns: the hidden (or gate) columns one block covers.</summary>
    private static int Half<TShape>() where TShape : struct, ITiledGemmShape =>
        default(TShape).ThreadCols * default(TShape).ColsPerThread / 2;

    /// <summary>Half a warp tile's columns: the hidden (or gate) columns one warp covers.</summary>
    private static int WarpHalf<TShape>() where TShape : struct, ITensorCoreShape => default(TShape).TileCols * 4;

    /// <summary>The entry point: <typeparamref name="TShape"/> names its register tile and runs <see cref="Body{TB, TWiden}"/>.</summary>
    [Kernel(typeof(float), typeof(WidenF32), typeof(TiledGemm128), ExplicitlyGrouped = true)]
    [Kernel(typeof(Half), typeof(WidenF16), typeof(TiledGemm128), ExplicitlyGrouped = true)]
    internal static void TiledKernel<TB, TWiden, TShape>(
        ArrayView<float> x, ArrayView<TB> weight, ArrayView<TB> bias, ArrayView<float> output, GegluLayout p)
        where TB : unmanaged
        where TWiden : struct, IWiden<TB>
        where TShape : struct, ITiledGemmShape =>
        default(TShape).Run(new Body<TB, TWiden>(
            new(x, weight, p, Half<TShape>()), new(bias, output, p, Half<TShape>())));

    /// <summary>The tensor-core entry point: <typeparamref name="TShape"/> names its warp tile and runs <see cref="TensorCoreBody"/>.</summary>
    [Kernel(typeof(TensorCoreGemm128), ExplicitlyGrouped = true)]
    internal static void TensorCoreKernel<TShape>(
        ArrayView<float> x, ArrayView<Half> weight, ArrayView<Half> bias, ArrayView<float> output, GegluLayout p)
        where TShape : struct, ITensorCoreShape =>
        default(TShape).Run(new TensorCoreBody(new(x, weight, p, WarpHalf<TShape>()), new(bias, output, p, WarpHalf<TShape>())));

    /// <summary>The tensor-core kernel's body: the tensor-core main loop over the rearranged projection, then the pairs to the GEGLU epilogue.</summary>
    private readonly struct TensorCoreBody(GegluOperands<Half> operands, GegluEpilogue<Half, WidenF16> epilogue) : ITensorCoreBody
    {
        public void Run<TShape, TTile>()
            where TShape : struct, ITensorCoreShape
            where TTile : struct, IMmaTile<TTile>
        {
            var sums = TensorCoreGemm.Accumulate<TShape, TTile, GegluOperands<Half>>(operands);
            TensorCoreGemm.StoreHalves<TShape, TTile, GegluEpilogue<Half, WidenF16>>(sums, epilogue);
        }
    }

    /// <summary>The kernel's body: the tiled main loop over the rearranged projection, then the pairs to the GEGLU epilogue.</summary>
    private readonly struct Body<TB, TWiden>(GegluOperands<TB> operands, GegluEpilogue<TB, TWiden> epilogue) : ITiledBody
        where TB : unmanaged
        where TWiden : struct, IWiden<TB>
    {
        public void Run<TShape, TTile, TRow>()
            where TShape : struct, ITiledGemmShape
            where TTile : struct, IRegisterTile<TTile, TRow>
            where TRow : struct, IRegisters<TRow>
        {
            var sums = TiledGemm.Accumulate<TB, TWiden, TShape, TTile, TRow, GegluOperands<TB>>(operands);
            TiledGemm.StoreHalves<TShape, TTile, TRow, GegluEpilogue<TB, TWiden>>(sums, epilogue);
        }
    }

    /// <summary>The kernel of one instantiation, loaded once per accelerator.</summary>
    private static class Loaded<TB, TWiden, TShape>
        where TB : unmanaged
        where TWiden : struct, IWiden<TB>
        where TShape : struct, ITiledGemmShape
    {
        public static readonly GroupedKernel<
            Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<TB>, ArrayView<TB>, ArrayView<float>, GegluLayout>> Kernel =
            new(accelerator => accelerator.LoadKernel<ArrayView<float>, ArrayView<TB>, ArrayView<TB>, ArrayView<float>, GegluLayout>(
                TiledKernel<TB, TWiden, TShape>), TiledGemm.Block<TShape>().SharedBytes);
    }

    /// <summary>The tensor-core kernel of one shape, loaded once per accelerator.</summary>
    private static class TensorCores<TShape> where TShape : struct, ITensorCoreShape
    {
        public static readonly GroupedKernel<
            Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<Half>, ArrayView<Half>, ArrayView<float>, GegluLayout>> Kernel =
            new(accelerator => accelerator.LoadKernel<ArrayView<float>, ArrayView<Half>, ArrayView<Half>, ArrayView<float>, GegluLayout>(
                TensorCoreKernel<TShape>), TensorCoreGemm.Block<TShape>().SharedBytes);
    }
}
