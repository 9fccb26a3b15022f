using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Tests.Evaluation;

/// <summary>Small non-square PNGs with a seed-dependent colour gradient and noise, for metric and protocol tests.</summary>
internal static class SyntheticImages
{
    /// <summary>Writes <paramref name="count"/> images of 40×36 into <paramref name="folder"/> (created) and returns the folder.</summary>
    public static string Write(string folder, int count, int seed)
    {
        Directory.CreateDirectory(folder);
        var rng = new Random(seed);
        for (int k = 0; k < count; k++)
        {
            const int width = 40, height = 36;
            var pixels = new byte[width * height * 3];
            int r0 = rng.Next(256), g0 = rng.Next(256), b0 = rng.Next(256);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    int i = 3 * (width * y + x);
                    pixels[i] = (byte)((r0 + 5 * x + rng.Next(24)) % 256);
                    pixels[i + 1] = (byte)((g0 + 6 * y + rng.Next(24)) % 256);
                    pixels[i + 2] = (byte)((b0 + 3 * (x + y) + rng.Next(24)) % 256);
                }
            PngWriter.Save(Path.Combine(folder, $"img{k}.png"), new RgbImage(width, height, pixels));
        }
        return folder;
    }

    /// <summary>The images of a folder as the scorers read them.</summary>
    public static IReadOnlyList<RgbImage> Read(string folder) => [.. Directory.GetFiles(folder, "*.png").Order(StringComparer.Ordinal).Select(f => ImageFile.Read(f))];
}
