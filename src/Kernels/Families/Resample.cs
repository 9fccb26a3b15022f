using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Nearest-neighbour resampling of channels-last F32 images [N, H, W, C] → [N, Hout, Wout, C], with PyTorch's index
/// rule for <c>F.interpolate(mode="nearest")</c>: src = min(floor(dst · scale), in − 1), scale = (float)in / out
/// computed in fp32. That gives src = dst / 2 for 2× upsampling, and matches diffusers when it upsamples to a skip
/// connection's size (latents not divisible by 8). Portable tier: the forward is one thread per output element; the
/// backward one thread per input element summing the outputs that copied it (no atomics).
/// </summary>
public static class Resample
{
    private static readonly OpDispatcher<NearestArgs> nearest =
        new(new KernelVariant<NearestArgs>("upsample-nearest-portable", KernelTier.Portable, (_, _) => true, LaunchNearest));

    private static readonly OpDispatcher<NearestArgs> nearestBackward =
        new(new KernelVariant<NearestArgs>("upsample-nearest-backward-portable", KernelTier.Portable, (_, _) => true, LaunchNearestBackward));

    /// <summary>[N, H, W, C] → a new [N, 2H, 2W, C]: each element repeated in a 2×2 block.</summary>
    public static Tensor UpsampleNearest2x(Tensor x)
    {
        Require.Rank(nameof(UpsampleNearest2x), nameof(x), x, 4);
        return UpsampleNearest(x, 2 * x.Shape[1], 2 * x.Shape[2]);
    }

    /// <summary>[N, H, W, C] → a new [N, <paramref name="height"/>, <paramref name="width"/>, C] (nearest).</summary>
    public static Tensor UpsampleNearest(Tensor x, int height, int width)
    {
        Require.Rank(nameof(UpsampleNearest), nameof(x), x, 4);
        Require.That(height >= 1, nameof(UpsampleNearest), nameof(height), $"height {height} must be positive.");
        Require.That(width >= 1, nameof(UpsampleNearest), nameof(width), $"width {width} must be positive.");
        var output = Tensor.Empty(x.Device, DType.F32, x.Shape[0], height, width, x.Shape[3]);
        try
        {
            UpsampleNearest(x, output);
        }
        catch
        {
            output.Dispose();
            throw;
        }
        return output;
    }

    /// <summary>Nearest resampling of <paramref name="x"/> [N, H, W, C] to the size of <paramref name="output"/> [N, Hout, Wout, C].</summary>
    public static void UpsampleNearest(Tensor x, Tensor output)
    {
        var args = Check(nameof(UpsampleNearest), nameof(x), x, nameof(output), output);
        nearest.Launch(x.Device, args);
    }

    /// <summary>
    /// The gradient of <see cref="UpsampleNearest(Tensor, Tensor)"/>: <paramref name="dx"/> [N, H, W, C] (overwritten)
    /// gets, for each input element, the sum of dy [N, Hout, Wout, C] over the outputs that copied it (four for 2×).
    /// </summary>
    public static void UpsampleNearestBackward(Tensor dy, Tensor dx)
    {
        var args = Check(nameof(UpsampleNearestBackward), nameof(dx), dx, nameof(dy), dy);
        nearestBackward.Launch(dy.Device, args);
    }

    private static NearestArgs Check(string op, string inputName, Tensor input, string outputName, Tensor output)
    {
        Require.DType(op, inputName, input, DType.F32);
        Require.DType(op, outputName, output, DType.F32);
        Require.Rank(op, inputName, input, 4);
        Require.Rank(op, outputName, output, 4);
        Require.SameDevice(op, outputName, output, input.Device);
        int n = input.Shape[0], h = input.Shape[1], w = input.Shape[2], c = input.Shape[3];
        int hout = output.Shape[1], wout = output.Shape[2];
        Require.Shape(op, outputName, output, n, hout, wout, c);
        return new NearestArgs(input, output, new NearestGeometry(n, h, w, c, hout, wout, (float)h / hout, (float)w / wout));
    }

    private static void LaunchNearest(Device device, NearestArgs a) =>
        device.Accelerator.LaunchAutoGrouped(NearestKernel, device.Stream, new Index1D(a.Output.Count),
            a.Input.F32View, a.Output.F32View, a.Geometry);

    private static void LaunchNearestBackward(Device device, NearestArgs a) =>
        device.Accelerator.LaunchAutoGrouped(NearestBackwardKernel, device.Stream, new Index1D(a.Input.Count),
            a.Output.F32View, a.Input.F32View, a.Geometry);

    /// <summary>PyTorch's nearest source index: min(floor(dst · scale), in − 1); dst · scale ≥ 0, so truncation is floor.</summary>
    private static int Source(int dst, float scale, int inSize) => Math.Min((int)(dst * scale), inSize - 1);

    /// <summary>
    /// A destination index no later than the first one whose source is <paramref name="src"/>: exactly that is
    /// ceil(src · out / in); fp32 rounding of the scale moves it by at most one, so start one below the floor.
    /// </summary>
    private static int FirstDestination(int src, int inSize, int outSize) => Math.Max(0, (int)((long)src * outSize / inSize) - 1);

    /// <summary>One thread per output element: copy its nearest source.</summary>
    [Kernel]
    internal static void NearestKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, NearestGeometry g)
    {
        int c = i % g.C, rest = i / g.C;
        int ow = rest % g.Wout; rest /= g.Wout;
        int oh = rest % g.Hout, n = rest / g.Hout;
        int ih = Source(oh, g.ScaleH, g.H), iw = Source(ow, g.ScaleW, g.W);
        y[i] = x[((n * g.H + ih) * g.W + iw) * g.C + c];
    }

    /// <summary>
    /// One thread per input element: the sum of dy over the output rows and columns whose source it is. The source
    /// index never decreases with the destination, so each scan stops at the first destination past it.
    /// </summary>
    [Kernel]
    internal static void NearestBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> dx, NearestGeometry g)
    {
        int c = i % g.C, rest = i / g.C;
        int iw = rest % g.W; rest /= g.W;
        int ih = rest % g.H, n = rest / g.H;
        float sum = 0f;
        for (int oh = FirstDestination(ih, g.H, g.Hout); oh < g.Hout; oh++)
        {
            int sh = Source(oh, g.ScaleH, g.H);
            if (sh > ih) break;
            if (sh < ih) continue;
            for (int ow = FirstDestination(iw, g.W, g.Wout); ow < g.Wout; ow++)
            {
                int sw = Source(ow, g.ScaleW, g.W);
                if (sw > iw) break;
                if (sw == iw) sum += dy[((n * g.Hout + oh) * g.Wout + ow) * g.C + c];
            }
        }
        dx[i] = sum;
    }

    /// <summary>Input and output sizes and the fp32 scales in/out of each axis.</summary>
    internal readonly record struct NearestGeometry(int N, int H, int W, int C, int Hout, int Wout, float ScaleH, float ScaleW);

    /// <summary>The image at the input size (x or dx) and the one at the output size (y or dy).</summary>
    private readonly record struct NearestArgs(Tensor Input, Tensor Output, NearestGeometry Geometry);
}
