using IlgpuDiffusion.Model.SafeTensors;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace IlgpuDiffusion.Model.Images;

/// <summary>
/// Writes 8-bit RGB PNG files atomically (temp file + rename), optionally with the generation parameters in an
/// uncompressed <c>parameters</c> text chunk that A1111's "PNG Info" and PIL's <c>Image.info</c> read: tEXt when the
/// text is Latin-1 (as PIL's <c>PngInfo.add_text</c> writes it), iTXt (UTF-8) otherwise.
/// </summary>
public static class PngWriter
{
    /// <summary>The text chunk keyword A1111 stores the generation parameters under.</summary>
    public const string ParametersKeyword = "parameters";

    /// <summary>Saves <paramref name="pixels"/> (row-major RGB, 3 × width × height bytes) to <paramref name="path"/>.</summary>
    public static void Save(string path, ReadOnlySpan<byte> pixels, int width, int height, GenerationParameters? parameters = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (pixels.Length != 3L * width * height)
            throw new ArgumentException($"PNG '{path}': an RGB image of {width}x{height} needs {3L * width * height} bytes, got {pixels.Length}.", nameof(pixels));

        using var image = Image.LoadPixelData<Rgb24>(pixels, width, height);
        if (parameters is not null)
            image.Metadata.GetPngMetadata().TextData.Add(new PngTextData(ParametersKeyword, parameters.ToA1111Text(), "", ""));
        var encoder = new PngEncoder
        {
            ColorType = PngColorType.Rgb,
            BitDepth = PngBitDepth.Bit8,
            TextCompressionThreshold = int.MaxValue,
        };
        AtomicFile.Write(path, stream => image.SaveAsPng(stream, encoder));
    }

    /// <summary>Saves <paramref name="image"/> to <paramref name="path"/>.</summary>
    public static void Save(string path, RgbImage image, GenerationParameters? parameters = null) =>
        Save(path, image.Pixels, image.Width, image.Height, parameters);
}
