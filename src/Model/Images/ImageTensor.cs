namespace IlgpuDiffusion.Model.Images;

/// <summary>
/// Converts between <see cref="RgbImage"/> and the host float tensors of the pipeline's public boundary: NCHW
/// <c>[1, 3, H, W]</c>, plus the channels-last layout the engine runs in.
/// </summary>
public static class ImageTensor
{
    /// <summary>
    /// The image as an NCHW <c>[1, 3, H, W]</c> tensor in [−1, 1], computed in float32 as diffusers' preprocessing
    /// does: <c>2 · (x / 255) − 1</c>.
    /// </summary>
    public static float[] ToNchw(RgbImage image)
    {
        int plane = image.Width * image.Height;
        var tensor = new float[3 * plane];
        var pixels = image.Pixels;
        for (int i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++)
                tensor[c * plane + i] = 2f * (pixels[3 * i + c] / 255f) - 1f;
        return tensor;
    }

    /// <summary>
    /// Quantizes an NCHW <c>[1, 3, H, W]</c> tensor to 8-bit RGB as diffusers does: values in [−1, 1] are first mapped by
    /// <c>x / 2 + 0.5</c>; then <c>clamp(0, 1)</c>, and <c>numpy_to_pil</c>'s <c>(x * 255).round()</c> (ties to even), all in
    /// float32. NaN becomes 0.
    /// </summary>
    public static RgbImage ToImage(ReadOnlySpan<float> nchw, int width, int height, PixelRange range)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        int plane = width * height;
        if (nchw.Length != 3 * plane)
            throw new ArgumentException($"an NCHW [1, 3, {height}, {width}] tensor has {3 * plane} values, got {nchw.Length}.", nameof(nchw));
        var pixels = new byte[3 * plane];
        for (int i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++)
            {
                float x = nchw[c * plane + i];
                float unit = Math.Clamp(range == PixelRange.MinusOneToOne ? x / 2f + 0.5f : x, 0f, 1f);
                pixels[3 * i + c] = float.IsNaN(unit) ? (byte)0 : (byte)MathF.Round(unit * 255f, MidpointRounding.ToEven);
            }
        return new RgbImage(width, height, pixels);
    }

    /// <summary>Transposes an NCHW tensor <c>[n, c, h, w]</c> to channels-last NHWC <c>[n, h, w, c]</c>.</summary>
    public static float[] NchwToNhwc(ReadOnlySpan<float> nchw, int n, int c, int h, int w)
    {
        long count = (long)n * c * h * w;
        if (n <= 0 || c <= 0 || h <= 0 || w <= 0 || nchw.Length != count)
            throw new ArgumentException($"an NCHW [{n}, {c}, {h}, {w}] tensor has {count} values, got {nchw.Length}.", nameof(nchw));
        var nhwc = new float[count];
        int plane = h * w;
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < plane; p++)
                    nhwc[(b * plane + p) * c + ch] = nchw[(b * c + ch) * plane + p];
        return nhwc;
    }
}
