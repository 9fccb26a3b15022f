using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// 2-D convolution over channels-last activations: input [N, H, W, Cin], weight [Cout, kh, kw, Cin], optional bias
/// [Cout], output [N, Hout, Wout, Cout]. Weights are F32 or F16 (widened in the kernel's loads; a bias has the
/// weight's dtype); activations and gradients are F32, accumulation is fp32. PyTorch stores weights
/// [Cout, Cin, kh, kw]; the loader repacks them once with <see cref="RepackWeight"/>.
/// Portable tier: forward one thread per output element; dX one thread per input element gathering over the taps
/// that reach it; dW one thread per weight element looping over N·Hout·Wout; db one thread per output channel.
/// No atomics, so every result is deterministic.
/// </summary>
public static class Conv2d
{
    /// <summary>The portable forward kernel: what the CPU accelerator runs, and the reference the tuned variants are checked against.</summary>
    internal static readonly KernelVariant<ForwardArgs> Portable =
        new("conv2d-portable", KernelTier.Portable, (_, _) => true, LaunchForward);

    /// <summary>
    /// On CUDA: the implicit GEMM on tensor cores for F16 weights when enabled and self-checked
    /// (<see cref="KernelPolicy.TensorCores"/>), else the implicit GEMM on the tiled fp32 core; the portable kernel
    /// everywhere else.
    /// </summary>
    private static readonly OpDispatcher<ForwardArgs> forward = new(Portable,
        Conv2dSelfCheck.Guard(Conv2dImplicitGemm.TensorCoreVariant<TensorCoreGemm128>("conv2d-implicit-gemm-tensor-core-128x128x32"), Portable).Variant,
        Conv2dImplicitGemm.Variant<TiledGemm128>("conv2d-implicit-gemm-128x128x8"));

    private static readonly OpDispatcher<BackwardInputArgs> backwardInput =
        new(new KernelVariant<BackwardInputArgs>("conv2d-dx-portable", KernelTier.Portable, (_, _) => true, LaunchBackwardInput));

    private static readonly OpDispatcher<BackwardWeightArgs> backwardWeight =
        new(new KernelVariant<BackwardWeightArgs>("conv2d-dw-portable", KernelTier.Portable, (_, _) => true, LaunchBackwardWeight));

    private static readonly OpDispatcher<BackwardBiasArgs> backwardBias =
        new(new KernelVariant<BackwardBiasArgs>("conv2d-db-portable", KernelTier.Portable, (_, _) => true, LaunchBackwardBias));

    /// <summary>PyTorch's [Cout, Cin, kh, kw] weight (F32 or F16) → a new tensor in the engine's [Cout, kh, kw, Cin] layout.</summary>
    public static Tensor RepackWeight(Tensor pytorchWeight)
    {
        Require.FloatDType(nameof(RepackWeight), nameof(pytorchWeight), pytorchWeight);
        Require.Rank(nameof(RepackWeight), nameof(pytorchWeight), pytorchWeight, 4);
        // [Cout, Cin, kh, kw] → [Cout, kh, kw, Cin] is the NCHW → NHWC permutation with N = Cout.
        return Layout.NchwToNhwc(pytorchWeight);
    }

    /// <summary>The output shape [N, Hout, Wout, Cout] of <see cref="Forward(Tensor, Tensor, Tensor?, Conv2dParams)"/>.</summary>
    public static Shape OutputShape(Shape input, Shape weight, Conv2dParams parameters)
    {
        if (input.Rank != 4) throw new ArgumentException($"{nameof(OutputShape)}: input has shape {input}, expected rank 4.", nameof(input));
        if (weight.Rank != 4) throw new ArgumentException($"{nameof(OutputShape)}: weight has shape {weight}, expected rank 4.", nameof(weight));
        return new Shape(input[0], parameters.OutputHeight(input[1], weight[1]), parameters.OutputWidth(input[2], weight[2]), weight[0]);
    }

    /// <summary>y = conv(x, weight) + bias, as a new F32 tensor [N, Hout, Wout, Cout].</summary>
    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias, Conv2dParams parameters) => Allocated(x, weight, bias, parameters, null);

    /// <summary>
    /// y = conv(x, weight) + bias + residual, as a new F32 tensor [N, Hout, Wout, Cout]: <paramref name="residual"/>
    /// (F32, the output's shape: a resnet block's shortcut) is added in the convolution's own pass.
    /// </summary>
    public static Tensor ForwardWithResidual(Tensor x, Tensor weight, Tensor? bias, Conv2dParams parameters, Tensor residual) =>
        Allocated(x, weight, bias, parameters, residual);

    private static Tensor Allocated(Tensor x, Tensor weight, Tensor? bias, Conv2dParams parameters, Tensor? residual)
    {
        Require.Rank(nameof(Forward), nameof(x), x, 4);
        Require.Rank(nameof(Forward), nameof(weight), weight, 4);
        CheckParams(nameof(Forward), parameters);
        CheckKernelFits(nameof(Forward), nameof(x), x.Shape, weight.Shape, parameters);
        var output = Tensor.Empty(x.Device, DType.F32, OutputShape(x.Shape, weight.Shape, parameters).ToArray());
        try
        {
            Forward(x, weight, bias, parameters, output, residual);
        }
        catch
        {
            output.Dispose();
            throw;
        }
        return output;
    }

    /// <summary>
    /// output = conv(x, weight) + bias (+ residual), written into <paramref name="output"/> [N, Hout, Wout, Cout] (F32);
    /// <paramref name="residual"/>, when given, is F32 of the output's shape and may be the output itself.
    /// </summary>
    public static void Forward(Tensor x, Tensor weight, Tensor? bias, Conv2dParams parameters, Tensor output, Tensor? residual = null) =>
        forward.Launch(x.Device, ForwardArguments(x, weight, bias, parameters, output, residual));

    /// <summary>Validates <see cref="Forward(Tensor, Tensor, Tensor?, Conv2dParams, Tensor, Tensor?)"/>'s operands and returns the convolution they describe.</summary>
    internal static ForwardArgs ForwardArguments(Tensor x, Tensor weight, Tensor? bias, Conv2dParams parameters, Tensor output, Tensor? residual)
    {
        const string op = nameof(Forward);
        Require.DType(op, nameof(x), x, DType.F32);
        Require.DType(op, nameof(output), output, DType.F32);
        Require.SameDevice(op, nameof(weight), weight, x.Device);
        Require.SameDevice(op, nameof(output), output, x.Device);
        var geometry = Resolve(op, nameof(x), x, nameof(weight), weight, parameters, nameof(output), output);
        if (bias is not null)
        {
            Require.DType(op, nameof(bias), bias, weight.DType);
            Require.SameDevice(op, nameof(bias), bias, x.Device);
            Require.Shape(op, nameof(bias), bias, geometry.Cout);
        }
        if (residual is not null)
        {
            Require.DType(op, nameof(residual), residual, DType.F32);
            Require.SameDevice(op, nameof(residual), residual, x.Device);
            Require.SameShape(op, nameof(residual), residual, output, nameof(output));
        }
        Require.Distinct(op, nameof(output), output, x, nameof(x));
        return new ForwardArgs(x, weight, bias, residual, output, geometry);
    }

    /// <summary>
    /// dx = ∂L/∂x from dy = ∂L/∂y, overwriting <paramref name="dx"/> [N, H, W, Cin] (F32), whose shape says the input
    /// size (a stride-2 conv maps two input sizes to one output size). Needs no weight gradient, so frozen weights
    /// (F32 or F16) cost only this.
    /// </summary>
    public static void BackwardInput(Tensor dy, Tensor weight, Conv2dParams parameters, Tensor dx)
    {
        const string op = nameof(BackwardInput);
        Require.DType(op, nameof(dy), dy, DType.F32);
        Require.DType(op, nameof(dx), dx, DType.F32);
        Require.SameDevice(op, nameof(weight), weight, dy.Device);
        Require.SameDevice(op, nameof(dx), dx, dy.Device);
        var geometry = Resolve(op, nameof(dx), dx, nameof(weight), weight, parameters, nameof(dy), dy);
        backwardInput.Launch(dy.Device, new BackwardInputArgs(dy, weight, dx, geometry));
    }

    /// <summary>
    /// dw = ∂L/∂weight from the forward input <paramref name="x"/> and dy, into the F32 gradient <paramref name="dw"/>
    /// [Cout, kh, kw, Cin]: overwritten, or added to its contents when <paramref name="accumulate"/> is true.
    /// </summary>
    public static void BackwardWeight(Tensor x, Tensor dy, Conv2dParams parameters, Tensor dw, bool accumulate)
    {
        const string op = nameof(BackwardWeight);
        Require.DType(op, nameof(x), x, DType.F32);
        Require.DType(op, nameof(dy), dy, DType.F32);
        Require.DType(op, nameof(dw), dw, DType.F32);
        Require.SameDevice(op, nameof(dy), dy, x.Device);
        Require.SameDevice(op, nameof(dw), dw, x.Device);
        var geometry = Resolve(op, nameof(x), x, nameof(dw), dw, parameters, nameof(dy), dy);
        backwardWeight.Launch(x.Device, new BackwardWeightArgs(x, dy, dw, accumulate ? 1 : 0, geometry));
    }

    /// <summary>
    /// db = ∂L/∂bias = the sum of dy [N, Hout, Wout, Cout] over N·Hout·Wout, into the F32 gradient <paramref name="db"/>
    /// [Cout]: overwritten, or added to its contents when <paramref name="accumulate"/> is true.
    /// </summary>
    public static void BackwardBias(Tensor dy, Tensor db, bool accumulate)
    {
        const string op = nameof(BackwardBias);
        Require.DType(op, nameof(dy), dy, DType.F32);
        Require.DType(op, nameof(db), db, DType.F32);
        Require.Rank(op, nameof(dy), dy, 4);
        Require.SameDevice(op, nameof(db), db, dy.Device);
        Require.Shape(op, nameof(db), db, dy.Shape[3]);
        backwardBias.Launch(dy.Device, new BackwardBiasArgs(dy, db, accumulate ? 1 : 0));
    }

    private static void CheckParams(string op, Conv2dParams p)
    {
        Require.That(p.StrideH >= 1 && p.StrideW >= 1, op, "parameters", $"strides must be at least 1 ({p}).");
        Require.That(p.PadTop >= 0 && p.PadBottom >= 0 && p.PadLeft >= 0 && p.PadRight >= 0, op, "parameters",
            $"padding must not be negative ({p}).");
    }

    private static void CheckKernelFits(string op, string inputName, Shape input, Shape weight, Conv2dParams p)
    {
        int paddedH = input[1] + p.PadTop + p.PadBottom, paddedW = input[2] + p.PadLeft + p.PadRight;
        Require.That(paddedH >= weight[1] && paddedW >= weight[2], op, inputName,
            $"{inputName} {input} padded to {paddedH}×{paddedW} is smaller than the {weight[1]}×{weight[2]} kernel.");
    }

    /// <summary>
    /// Checks that <paramref name="input"/> [N, H, W, Cin], <paramref name="weight"/> [Cout, kh, kw, Cin] (F32 or F16)
    /// and <paramref name="output"/> [N, Hout, Wout, Cout] agree under <paramref name="p"/>, and returns the sizes.
    /// </summary>
    private static ConvGeometry Resolve(string op, string inputName, Tensor input, string weightName, Tensor weight,
        Conv2dParams p, string outputName, Tensor output)
    {
        Require.Rank(op, inputName, input, 4);
        Require.Rank(op, weightName, weight, 4);
        Require.Rank(op, outputName, output, 4);
        Require.FloatDType(op, weightName, weight);
        CheckParams(op, p);
        int n = input.Shape[0], h = input.Shape[1], w = input.Shape[2], cin = input.Shape[3];
        int cout = weight.Shape[0], kh = weight.Shape[1], kw = weight.Shape[2];
        Require.That(weight.Shape[3] == cin, op, weightName,
            $"{weightName} {weight.Shape} [Cout, kh, kw, Cin] has Cin {weight.Shape[3]}, but {inputName} {input.Shape} has {cin} channels.");
        CheckKernelFits(op, inputName, input.Shape, weight.Shape, p);
        int hout = p.OutputHeight(h, kh), wout = p.OutputWidth(w, kw);
        Require.Shape(op, outputName, output, n, hout, wout, cout);
        return new ConvGeometry(n, h, w, cin, hout, wout, cout, kh, kw, p.StrideH, p.StrideW, p.PadTop, p.PadLeft);
    }

    /// <summary>The selected forward variant for these arguments on this device (tests check the CPU never gets a tuned one).</summary>
    internal static KernelVariant<ForwardArgs> SelectForward(Device device, ForwardArgs args) => forward.Select(device, args);

    private static void LaunchForward(Device device, ForwardArgs a)
    {
        var extent = new Index1D(a.Output.Count);
        var residual = a.Residual?.F32View ?? ArrayView<float>.Empty;
        if (a.Weight.DType == DType.F16)
            device.Accelerator.LaunchAutoGrouped(ForwardKernel<Half, WidenF16>, device.Stream, extent,
                a.X.F32View, a.Weight.F16View, a.Bias?.F16View ?? ArrayView<Half>.Empty, residual, a.Output.F32View, a.Geometry, a.Terms);
        else
            device.Accelerator.LaunchAutoGrouped(ForwardKernel<float, WidenF32>, device.Stream, extent,
                a.X.F32View, a.Weight.F32View, a.Bias?.F32View ?? ArrayView<float>.Empty, residual, a.Output.F32View, a.Geometry, a.Terms);
    }

    private static void LaunchBackwardInput(Device device, BackwardInputArgs a)
    {
        var extent = new Index1D(a.Dx.Count);
        if (a.Weight.DType == DType.F16)
            device.Accelerator.LaunchAutoGrouped(BackwardInputKernel<Half, WidenF16>, device.Stream, extent,
                a.Dy.F32View, a.Weight.F16View, a.Dx.F32View, a.Geometry);
        else
            device.Accelerator.LaunchAutoGrouped(BackwardInputKernel<float, WidenF32>, device.Stream, extent,
                a.Dy.F32View, a.Weight.F32View, a.Dx.F32View, a.Geometry);
    }

    private static void LaunchBackwardWeight(Device device, BackwardWeightArgs a) =>
        device.Accelerator.LaunchAutoGrouped(BackwardWeightKernel, device.Stream, new Index1D(a.Dw.Count),
            a.X.F32View, a.Dy.F32View, a.Dw.F32View, a.Accumulate, a.Geometry);

    private static void LaunchBackwardBias(Device device, BackwardBiasArgs a)
    {
        int channels = a.Db.Count;
        device.Accelerator.LaunchAutoGrouped(BackwardBiasKernel, device.Stream, new Index1D(channels),
            a.Dy.F32View, a.Db.F32View, a.Dy.Count / channels, channels, a.Accumulate);
    }

    /// <summary>One thread per output element (n, oh, ow, co): the dot product over (kh, kw, Cin), then bias and residual.</summary>
    [Kernel(typeof(float), typeof(WidenF32)), Kernel(typeof(Half), typeof(WidenF16))]
    internal static void ForwardKernel<T, TWiden>(Index1D i, ArrayView<float> x, ArrayView<T> weight, ArrayView<T> bias,
        ArrayView<float> residual, ArrayView<float> y, ConvGeometry g, ConvTerms terms)
        where T : unmanaged
        where TWiden : struct, IWiden<T>
    {
        int co = i % g.Cout, rest = i / g.Cout;
        int ow = rest % g.Wout; rest /= g.Wout;
        int oh = rest % g.Hout, n = rest / g.Hout;
        float sum = 0f;
        for (int ky = 0; ky < g.Kh; ky++)
        {
            int ih = oh * g.StrideH - g.PadTop + ky;
            if (ih < 0 || ih >= g.H) continue;
            for (int kx = 0; kx < g.Kw; kx++)
            {
                int iw = ow * g.StrideW - g.PadLeft + kx;
                if (iw < 0 || iw >= g.W) continue;
                int xBase = ((n * g.H + ih) * g.W + iw) * g.Cin;
                int wBase = ((co * g.Kh + ky) * g.Kw + kx) * g.Cin;
                for (int ci = 0; ci < g.Cin; ci++)
                    sum += x[xBase + ci] * default(TWiden).ToFloat(weight[wBase + ci]);
            }
        }
        y[i] = terms.Finish<T, TWiden>(sum, bias, residual, co, i);
    }

    /// <summary>
    /// One thread per input element (n, ih, iw, ci): the sum over every tap (ky, kx) whose output position
    /// oh = (ih + padTop − ky) / strideH (exact division, in range) exists, and over Cout, of dy · weight.
    /// </summary>
    [Kernel(typeof(float), typeof(WidenF32)), Kernel(typeof(Half), typeof(WidenF16))]
    internal static void BackwardInputKernel<T, TWiden>(Index1D i, ArrayView<float> dy, ArrayView<T> weight,
        ArrayView<float> dx, ConvGeometry g)
        where T : unmanaged
        where TWiden : struct, IWiden<T>
    {
        int ci = i % g.Cin, rest = i / g.Cin;
        int iw = rest % g.W; rest /= g.W;
        int ih = rest % g.H, n = rest / g.H;
        int coStride = g.Kh * g.Kw * g.Cin;
        float sum = 0f;
        for (int ky = 0; ky < g.Kh; ky++)
        {
            int th = ih + g.PadTop - ky;
            if (th < 0 || th % g.StrideH != 0) continue;
            int oh = th / g.StrideH;
            if (oh >= g.Hout) continue;
            for (int kx = 0; kx < g.Kw; kx++)
            {
                int tw = iw + g.PadLeft - kx;
                if (tw < 0 || tw % g.StrideW != 0) continue;
                int ow = tw / g.StrideW;
                if (ow >= g.Wout) continue;
                int dyBase = ((n * g.Hout + oh) * g.Wout + ow) * g.Cout;
                int wBase = (ky * g.Kw + kx) * g.Cin + ci;
                for (int co = 0; co < g.Cout; co++)
                    sum += dy[dyBase + co] * default(TWiden).ToFloat(weight[co * coStride + wBase]);
            }
        }
        dx[i] = sum;
    }

    /// <summary>One thread per weight element (co, ky, kx, ci): the sum over N·Hout·Wout of x · dy.</summary>
    [Kernel]
    internal static void BackwardWeightKernel(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw,
        int accumulate, ConvGeometry g)
    {
        int ci = i % g.Cin, rest = i / g.Cin;
        int kx = rest % g.Kw; rest /= g.Kw;
        int ky = rest % g.Kh, co = rest / g.Kh;
        float sum = 0f;
        for (int n = 0; n < g.N; n++)
            for (int oh = 0; oh < g.Hout; oh++)
            {
                int ih = oh * g.StrideH - g.PadTop + ky;
                if (ih < 0 || ih >= g.H) continue;
                for (int ow = 0; ow < g.Wout; ow++)
                {
                    int iw = ow * g.StrideW - g.PadLeft + kx;
                    if (iw < 0 || iw >= g.W) continue;
                    sum += x[((n * g.H + ih) * g.W + iw) * g.Cin + ci] * dy[((n * g.Hout + oh) * g.Wout + ow) * g.Cout + co];
                }
            }
        dw[i] = accumulate != 0 ? dw[i] + sum : sum;
    }

    /// <summary>One thread per output channel: the sum of dy over its <paramref name="rows"/> positions.</summary>
    [Kernel]
    internal static void BackwardBiasKernel(Index1D co, ArrayView<float> dy, ArrayView<float> db, int rows, int channels, int accumulate)
    {
        float sum = 0f;
        for (int r = 0; r < rows; r++) sum += dy[r * channels + co];
        db[co] = accumulate != 0 ? db[co] + sum : sum;
    }

    /// <summary>The sizes a conv kernel needs, validated on the host.</summary>
    internal readonly record struct ConvGeometry(
        int N, int H, int W, int Cin, int Hout, int Wout, int Cout, int Kh, int Kw, int StrideH, int StrideW, int PadTop, int PadLeft);

    /// <summary>Which terms the forward kernels add to the products: bias[co] and residual[i], each when its flag is 1.</summary>
    internal readonly record struct ConvTerms(int HasBias, int HasResidual)
    {
        /// <summary>Output element i (channel co) from the sum of its products: + bias, then + residual, as present.</summary>
        public float Finish<T, TWiden>(float products, ArrayView<T> bias, ArrayView<float> residual, int co, int i)
            where T : unmanaged
            where TWiden : struct, IWiden<T>
        {
            float result = products;
            if (HasBias != 0) result += default(TWiden).ToFloat(bias[co]);
            if (HasResidual != 0) result += residual[i];
            return result;
        }
    }

    /// <summary>A validated forward convolution.</summary>
    internal readonly record struct ForwardArgs(Tensor X, Tensor Weight, Tensor? Bias, Tensor? Residual, Tensor Output, ConvGeometry Geometry)
    {
        public ConvTerms Terms => new(Bias is null ? 0 : 1, Residual is null ? 0 : 1);
    }

    private readonly record struct BackwardInputArgs(Tensor Dy, Tensor Weight, Tensor Dx, ConvGeometry Geometry);

    private readonly record struct BackwardWeightArgs(Tensor X, Tensor Dy, Tensor Dw, int Accumulate, ConvGeometry Geometry);

    private readonly record struct BackwardBiasArgs(Tensor Dy, Tensor Db, int Accumulate);
}
