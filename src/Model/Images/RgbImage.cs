using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace IlgpuDiffusion.Model.Images;

/// <summary>
/// An 8-bit RGB image on the host: <see cref="Width"/> × <see cref="Height"/> pixels, row-major, three interleaved
/// bytes per pixel (what PIL calls mode "RGB"). Immutable: the transforms return new images.
/// </summary>
public sealed class RgbImage
{
    private readonly byte[] pixels;

    /// <summary>Wraps <paramref name="pixels"/> (taken, not copied), which must hold 3 × width × height bytes.</summary>
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.LongLength != 3L * width * height)
            throw new ArgumentException($"an RGB image of {width}x{height} needs {3L * width * height} bytes, got {pixels.LongLength}.", nameof(pixels));
        Width = width;
        Height = height;
        this.pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>The pixels: row after row, R, G, B per pixel.</summary>
    public ReadOnlySpan<byte> Pixels => pixels;

    /// <summary>The image mirrored left to right (torchvision's <c>RandomHorizontalFlip</c> when it flips).</summary>
    public RgbImage FlipHorizontal()
    {
        var flipped = new byte[pixels.Length];
        int row = 3 * Width;
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
                pixels.AsSpan(y * row + 3 * x, 3).CopyTo(flipped.AsSpan(y * row + 3 * (Width - 1 - x), 3));
        return new RgbImage(Width, Height, flipped);
    }

    /// <summary>
    /// Scales the image so that it covers <paramref name="width"/> × <paramref name="height"/> (for a square target:
    /// the shortest side becomes the resolution, the other <c>floor(resolution × long / short)</c>, as torchvision's
    /// <c>Resize(size)</c>), with a Lanczos-3 filter in sRGB space like PIL, then crops the centre (torchvision's
    /// <c>CenterCrop</c>: offset <c>round((size − target) / 2)</c>, ties to even).
    /// </summary>
    public RgbImage ResizeAndCenterCrop(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        var (scaledWidth, scaledHeight) = CoveringSize(width, height);
        using var image = Image.LoadPixelData<Rgb24>(pixels, Width, Height);
        int left = (int)Math.Round((scaledWidth - width) / 2.0, MidpointRounding.ToEven);
        int top = (int)Math.Round((scaledHeight - height) / 2.0, MidpointRounding.ToEven);
        image.Mutate(context =>
        {
            if (scaledWidth != Width || scaledHeight != Height)
                context.Resize(scaledWidth, scaledHeight, KnownResamplers.Lanczos3);
            context.Crop(new Rectangle(left, top, width, height));
        });
        return FromImageSharp(image);
    }

    /// <summary>Copies the pixels of an ImageSharp image.</summary>
    internal static RgbImage FromImageSharp(Image<Rgb24> image)
    {
        var bytes = new byte[3L * image.Width * image.Height];
        image.CopyPixelDataTo(bytes);
        return new RgbImage(image.Width, image.Height, bytes);
    }

    /// <summary>The smallest size with this aspect ratio that covers the target; the side that fits is exact, the other floored.</summary>
    private (int Width, int Height) CoveringSize(int width, int height)
    {
        if ((long)width * Height >= (long)height * Width)
            return (width, Math.Max(height, (int)((long)Height * width / Width)));
        return (Math.Max(width, (int)((long)Width * height / Height)), height);
    }
}
