using IlgpuDiffusion.Model.Images;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace IlgpuDiffusion.Tests.Model.Images;

public sealed class ImageFileTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("idf-images-");

    public void Dispose() => folder.Delete(recursive: true);

    [Fact]
    public void Png_round_trips_exactly()
    {
        var image = TestImages.Noise(37, 23, seed: 1);
        var path = PathOf("noise.png");
        PngWriter.Save(path, image);

        var read = ImageFile.Read(path);

        Assert.Equal((37, 23), (read.Width, read.Height));
        Assert.True(image.Pixels.SequenceEqual(read.Pixels));
    }

    [Fact]
    public void Jpeg_is_decoded_close_to_the_original()
    {
        var image = TestImages.Painted(48, 32, (x, y) => ((byte)(5 * x), (byte)(7 * y), 128));
        var path = PathOf("gradient.jpg");
        using (var sharp = Image.LoadPixelData<Rgb24>(image.Pixels, image.Width, image.Height))
            sharp.SaveAsJpeg(path, new JpegEncoder { Quality = 100 });

        var read = ImageFile.Read(path);

        Assert.Equal((48, 32), (read.Width, read.Height));
        double meanError = Enumerable.Range(0, image.Pixels.Length).Average(i => Math.Abs(image.Pixels[i] - read.Pixels[i]));
        Assert.True(meanError < 2, $"mean absolute error {meanError}");
    }

    [Fact]
    public void Alpha_is_dropped_without_blending()
    {
        var path = PathOf("rgba.png");
        using (var sharp = new Image<Rgba32>(4, 3, new Rgba32(10, 20, 30, 40)))
            sharp.SaveAsPng(path);

        var read = ImageFile.Read(path);

        Assert.All(Enumerable.Range(0, 12), i => Assert.Equal(((byte)10, (byte)20, (byte)30), TestImages.At(read, i % 4, i / 4)));
    }

    [Fact]
    public void Exif_orientation_is_applied()
    {
        var path = PathOf("rotated.jpg");
        using (var sharp = new Image<Rgb24>(40, 20, new Rgb24(200, 100, 50)))
        {
            sharp.Metadata.ExifProfile = new ExifProfile();
            sharp.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6); // stored rotated: turn 90° clockwise to view
            sharp.SaveAsJpeg(path);
        }

        var read = ImageFile.Read(path);

        Assert.Equal((20, 40), (read.Width, read.Height));
    }

    [Fact]
    public void An_image_over_the_pixel_limit_is_refused_naming_the_file_and_the_limit()
    {
        var path = PathOf("big.png");
        PngWriter.Save(path, TestImages.Noise(100, 100, seed: 2));

        var e = Assert.Throws<ImageLoadException>(() => ImageFile.Read(path, maxPixels: 9_999));

        Assert.Equal(path, e.FilePath);
        Assert.Contains(path, e.Message);
        Assert.Contains("100x100", e.Message);
        Assert.Contains("9999", e.Message);
        Assert.Equal(100, ImageFile.Read(path, maxPixels: 10_000).Width);
    }

    [Fact]
    public void The_limit_is_checked_on_the_header_before_decoding()
    {
        // A 60000 x 60000 header with no image data: decoding would need 10 GB; the header alone must be refused.
        var path = PathOf("bomb.png");
        File.WriteAllBytes(path, [.. PngChunks.Signature, .. PngChunks.RgbHeader(60_000, 60_000), .. PngChunks.Chunk("IEND", [])]);

        var e = Assert.Throws<ImageLoadException>(() => ImageFile.Read(path));

        Assert.Contains("60000x60000", e.Message);
        Assert.Contains($"{ImageFile.DefaultMaxPixels}", e.Message);
    }

    [Fact]
    public void A_file_that_is_no_image_is_refused_naming_it()
    {
        var path = PathOf("notes.png");
        File.WriteAllText(path, "these are not the pixels you are looking for");

        var e = Assert.Throws<ImageLoadException>(() => ImageFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("not an image format", e.Message);
    }

    [Fact]
    public void An_empty_file_is_refused()
    {
        var path = PathOf("empty.jpg");
        File.WriteAllBytes(path, []);

        Assert.Contains(path, Assert.Throws<ImageLoadException>(() => ImageFile.Read(path)).Message);
    }

    [Theory]
    [InlineData("png")]
    [InlineData("jpg")]
    public void A_truncated_file_is_refused_naming_it(string extension)
    {
        var whole = PathOf($"whole.{extension}");
        using (var sharp = Image.LoadPixelData<Rgb24>(TestImages.Noise(64, 64, seed: 3).Pixels, 64, 64))
            sharp.Save(whole);
        var bytes = File.ReadAllBytes(whole);
        var path = PathOf($"truncated.{extension}");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var e = Assert.Throws<ImageLoadException>(() => ImageFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void A_jpeg_with_data_after_its_end_marker_is_read()
    {
        var image = TestImages.Painted(16, 16, (x, y) => (90, 160, 220));
        var path = PathOf("trailer.jpg");
        using (var sharp = Image.LoadPixelData<Rgb24>(image.Pixels, 16, 16))
            sharp.SaveAsJpeg(path);
        File.AppendAllText(path, "phone maker trailer: \xFF\xD8 not a second image");

        var read = ImageFile.Read(path);

        Assert.Equal((16, 16), (read.Width, read.Height));
        Assert.InRange(TestImages.At(read, 8, 8).G, 155, 165);
    }

    [Fact]
    public void A_png_with_a_broken_header_is_refused()
    {
        var path = PathOf("bad-crc.png");
        var header = PngChunks.RgbHeader(8, 8);
        header[^1] ^= 0xFF;
        File.WriteAllBytes(path, [.. PngChunks.Signature, .. header, .. PngChunks.Chunk("IEND", [])]);

        Assert.Contains(path, Assert.Throws<ImageLoadException>(() => ImageFile.Read(path)).Message);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var path = PathOf("absent.png");
        Assert.Contains(path, Assert.Throws<FileNotFoundException>(() => ImageFile.Read(path)).Message);
    }

    private string PathOf(string name) => Path.Combine(folder.FullName, name);
}
