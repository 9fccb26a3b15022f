using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Conversions between the API's NCHW layout (files, the <c>forward</c> command, pipeline inputs and outputs) and
/// the engine's channels-last NHWC layout. Each returns a new tensor of the same dtype.
/// </summary>
public static class Layout
{
    /// <summary>[N, C, H, W] → [N, H, W, C].</summary>
    public static Tensor NchwToNhwc(Tensor x)
    {
        Require.Rank(nameof(NchwToNhwc), nameof(x), x, 4);
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        var y = Tensor.Empty(x.Device, x.DType, n, h, w, c);
        Permute(x, y, new Dims4(n, c, h, w), toChannelsLast: true);
        return y;
    }

    /// <summary>[N, H, W, C] → [N, C, H, W].</summary>
    public static Tensor NhwcToNchw(Tensor x)
    {
        Require.Rank(nameof(NhwcToNchw), nameof(x), x, 4);
        int n = x.Shape[0], h = x.Shape[1], w = x.Shape[2], c = x.Shape[3];
        var y = Tensor.Empty(x.Device, x.DType, n, c, h, w);
        Permute(x, y, new Dims4(n, c, h, w), toChannelsLast: false);
        return y;
    }

    private static void Permute(Tensor x, Tensor y, Dims4 dims, bool toChannelsLast)
    {
        var acc = x.Device.Accelerator;
        var extent = new Index1D(x.Count);
        int direction = toChannelsLast ? 1 : 0;
        switch (x.DType)
        {
            case DType.F32: acc.LaunchAutoGrouped(PermuteNchwKernel, x.Device.Stream, extent, x.F32View, y.F32View, dims, direction); break;
            case DType.F16: acc.LaunchAutoGrouped(PermuteNchwKernel, x.Device.Stream, extent, x.F16View, y.F16View, dims, direction); break;
            case DType.I32: acc.LaunchAutoGrouped(PermuteNchwKernel, x.Device.Stream, extent, x.I32View, y.I32View, dims, direction); break;
        }
    }

    /// <summary>The four NCHW extents, passed to the kernel as one value.</summary>
    internal readonly record struct Dims4(int N, int C, int H, int W);

    /// <summary>
    /// One thread per output element. <paramref name="toChannelsLast"/> = 1: output is NHWC, input NCHW; 0: the reverse.
    /// </summary>
    [Kernel(typeof(float)), Kernel(typeof(ILGPU.Half)), Kernel(typeof(int))]
    internal static void PermuteNchwKernel<T>(Index1D i, ArrayView<T> input, ArrayView<T> output, Dims4 d, int toChannelsLast)
        where T : unmanaged
    {
        // Decompose the output index, then gather from the input.
        if (toChannelsLast == 1)
        {
            int c = i % d.C, rest = i / d.C;
            int w = rest % d.W; rest /= d.W;
            int h = rest % d.H, n = rest / d.H;
            output[i] = input[((n * d.C + c) * d.H + h) * d.W + w];
        }
        else
        {
            int w = i % d.W, rest = i / d.W;
            int h = rest % d.H; rest /= d.H;
            int c = rest % d.C, n = rest / d.C;
            output[i] = input[((n * d.H + h) * d.W + w) * d.C + c];
        }
    }
}
