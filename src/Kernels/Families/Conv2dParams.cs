namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Strides and zero padding of a 2-D convolution. Padding is explicit per side, so the VAE encoder's
/// (top 0, bottom 1, left 0, right 1) padding before its stride-2 convs is one conv with no separate pad op.
/// Output size: (H + PadTop + PadBottom − kh) / StrideH + 1 (floor), and likewise for the width.
/// </summary>
public readonly record struct Conv2dParams(int StrideH, int StrideW, int PadTop, int PadBottom, int PadLeft, int PadRight)
{
    /// <summary>The same stride on both axes and the same padding on all four sides (PyTorch's <c>Conv2d(stride, padding)</c>).</summary>
    public static Conv2dParams Symmetric(int stride, int padding) => new(stride, stride, padding, padding, padding, padding);

    /// <summary>The output height for an input of <paramref name="height"/> rows and a kernel of <paramref name="kernelHeight"/> rows.</summary>
    public int OutputHeight(int height, int kernelHeight) => (height + PadTop + PadBottom - kernelHeight) / StrideH + 1;

    /// <summary>The output width for an input of <paramref name="width"/> columns and a kernel of <paramref name="kernelWidth"/> columns.</summary>
    public int OutputWidth(int width, int kernelWidth) => (width + PadLeft + PadRight - kernelWidth) / StrideW + 1;

    public override string ToString() =>
        $"stride ({StrideH}, {StrideW}), padding (top {PadTop}, bottom {PadBottom}, left {PadLeft}, right {PadRight})";
}
