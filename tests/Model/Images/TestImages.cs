using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Tests.Model.Images;

/// <summary>Images with known content for the image tests.</summary>
internal static class TestImages
{
    /// <summary>Uniform random bytes from a fixed seed.</summary>
    public static RgbImage Noise(int width, int height, int seed)
    {
        var pixels = new byte[3 * width * height];
        new Random(seed).NextBytes(pixels);
        return new RgbImage(width, height, pixels);
    }

    /// <summary>Every pixel gets <paramref name="color"/>(x, y).</summary>
    public static RgbImage Painted(int width, int height, Func<int, int, (byte R, byte G, byte B)> color)
    {
        var pixels = new byte[3 * width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                (pixels[3 * (y * width + x)], pixels[3 * (y * width + x) + 1], pixels[3 * (y * width + x) + 2]) = color(x, y);
        return new RgbImage(width, height, pixels);
    }

    /// <summary>The R, G, B bytes at (x, y).</summary>
    public static (byte R, byte G, byte B) At(RgbImage image, int x, int y)
    {
        int i = 3 * (y * image.Width + x);
        return (image.Pixels[i], image.Pixels[i + 1], image.Pixels[i + 2]);
    }
}
