namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Conversions between the API's NCHW layout (files, the <c>forward</c> command, pipeline inputs and outputs) and
/// the engine's channels-last NHWC layout. Each returns a new tensor of the same dtype (F32, F16 or I32).
/// </summary>
public static class Layout
{
    /// <summary>[N, C, H, W] → [N, H, W, C].</summary>
    public static Tensor NchwToNhwc(Tensor x)
    {
        Require.Rank(nameof(NchwToNhwc), nameof(x), x, 4);
        return Permute.Apply(x, 0, 2, 3, 1);
    }

    /// <summary>[N, H, W, C] → [N, C, H, W].</summary>
    public static Tensor NhwcToNchw(Tensor x)
    {
        Require.Rank(nameof(NhwcToNchw), nameof(x), x, 4);
        return Permute.Apply(x, 0, 3, 1, 2);
    }
}
