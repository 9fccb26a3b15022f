using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace IlgpuDiffusion.Model.Images;

/// <summary>
/// Reads image files (PNG, JPEG, and the other formats ImageSharp knows: BMP, GIF, TGA, TIFF, WebP, PBM) as 8-bit RGB.
/// The dimensions are read from the header first and checked against a pixel-count limit before anything is
/// decoded, so a small file that claims a huge image cannot exhaust memory.
/// </summary>
public static class ImageFile
{
    /// <summary>The default decode limit: 64 megapixels (e.g. 8192 × 8192), 192 MiB as RGB bytes.</summary>
    public const long DefaultMaxPixels = 64L * 1024 * 1024;

    /// <summary>
    /// Decodes <paramref name="path"/> to RGB (alpha dropped, grey expanded), turned upright by its EXIF
    /// orientation as diffusers' <c>load_image</c> and training scripts do (<c>exif_transpose</c>).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ImageLoadException">The file is not a readable image or has more than <paramref name="maxPixels"/> pixels.</exception>
    public static RgbImage Read(string path, long maxPixels = DefaultMaxPixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPixels);
        using var stream = File.OpenRead(path);
        var (info, format) = Identify(path, stream);
        long count = (long)info.Width * info.Height;
        if (count > maxPixels)
            throw new ImageLoadException(path, $"it is {info.Width}x{info.Height} = {count} pixels, over the decode limit of {maxPixels} pixels.");
        if (format == JpegFormat.Instance && !JpegEndMarker.IsPresent(stream))
            throw new ImageLoadException(path, "it is truncated: the JPEG data ends before its end-of-image marker.");
        stream.Position = 0;
        using var image = Decode(path, stream);
        image.Mutate(context => context.AutoOrient());
        return RgbImage.FromImageSharp(image);
    }

    private static (IImageInfo Info, IImageFormat Format) Identify(string path, Stream stream)
    {
        try
        {
            var info = Image.Identify(stream, out var format);
            return info is null || format is null
                ? throw new ImageLoadException(path, "not an image format that can be read (expected PNG, JPEG, BMP, GIF, TGA, TIFF, WebP or PBM).")
                : (info, format);
        }
        catch (ImageFormatException e)
        {
            throw new ImageLoadException(path, $"its header is corrupt ({e.Message}).", e);
        }
    }

    private static Image<Rgb24> Decode(string path, Stream stream)
    {
        try
        {
            return Image.Load<Rgb24>(stream);
        }
        catch (Exception e) when (e is ImageFormatException or NotSupportedException or EndOfStreamException)
        {
            throw new ImageLoadException(path, $"it is corrupt or truncated ({e.Message}).", e);
        }
    }
}
