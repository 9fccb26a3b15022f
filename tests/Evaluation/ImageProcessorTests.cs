using IlgpuDiffusion.Evaluation.Preprocessing;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Images;
using IlgpuDiffusion.Model.SafeTensors;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Evaluation;

/// <summary>
/// The CLIP and ViT image processors against transformers 4.30 + Pillow 9.4 (reference/preprocess.safetensors): the
/// resized uint8 images and the pixel values must match exactly.
/// </summary>
public sealed class ImageProcessorTests(ITestOutputHelper output) : IDisposable
{
    private readonly SafeTensorsReader reference = EvalFixtures.Preprocess();

    public void Dispose() => reference.Dispose();

    [Theory]
    [InlineData("clip", "tiny-clip")]
    [InlineData("dino", "tiny-dino")]
    public void Resize_matches_pillow_exactly(string prefix, string folder)
    {
        var processor = ImageProcessor.Load(Path.Combine(Folder(folder), "preprocessor_config.json"));
        var raw = EvalFixtures.RawImages(reference);
        for (int i = 0; i < raw.Length; i++)
        {
            var expected = EvalFixtures.Image(reference, $"{prefix}.resized_{i}");
            var resized = processor.Resize(raw[i]);
            Assert.Equal((expected.Width, expected.Height), (resized.Width, resized.Height));
            int differing = Differences(expected.Pixels, resized.Pixels, out int largest);
            output.WriteLine($"{prefix} image {i}: {raw[i].Width}x{raw[i].Height} → {resized.Width}x{resized.Height}, {differing} values differ (largest {largest})");
            Assert.Equal(0, differing);
        }
    }

    [Theory]
    [InlineData("clip", "tiny-clip")]
    [InlineData("dino", "tiny-dino")]
    public void Pixel_values_match_the_processor_exactly(string prefix, string folder)
    {
        var processor = ImageProcessor.Load(Path.Combine(Folder(folder), "preprocessor_config.json"));
        var pixels = processor.PixelValues(EvalFixtures.RawImages(reference), out int height, out int width);
        Assert.Equal([2, 3, 32, 32], reference.GetInfo($"{prefix}.pixel_values").Shape.ToArray());
        Assert.Equal((32, 32), (height, width));
        var expected = reference.ReadF32($"{prefix}.pixel_values");
        Assert.True(expected.Distinct().Count() > 100, "the reference pixel values are nearly constant");
        Assert.Equal(expected, pixels);
    }

    [Fact]
    public void Torchvision_dino_transform_matches_the_dinotv_variant()
    {
        var transform = TorchvisionCenterCrop.DinoEvaluation(32);
        Assert.Equal(36, transform.Resize);
        var raw = EvalFixtures.RawImages(reference);
        for (int i = 0; i < raw.Length; i++)
        {
            var expected = EvalFixtures.Image(reference, $"dinotv.resized_{i}");
            var resized = transform.ResizeShortestSide(raw[i]);
            Assert.Equal((expected.Width, expected.Height), (resized.Width, resized.Height));
            Assert.Equal(0, Differences(expected.Pixels, resized.Pixels, out _));
        }
        var pixels = transform.PixelValues(raw, out int height, out int width);
        Assert.Equal((32, 32), (height, width));
        var expectedPixels = reference.ReadF32("dinotv.pixel_values");
        double worst = pixels.Zip(expectedPixels, (a, b) => Math.Abs(a - (double)b)).Max();
        output.WriteLine($"dinotv pixel values: largest difference {worst:E2}");
        Assert.True(worst <= 1e-6, $"dinotv pixel values differ by {worst}");
    }

    [Fact]
    public void Bicubic_differs_from_bilinear_so_the_filter_is_really_checked()
    {
        var raw = EvalFixtures.Image(reference, "raw_0");
        var bicubic = PillowResize.Resize(raw, 32, 32, ResampleFilter.Bicubic);
        var bilinear = PillowResize.Resize(raw, 32, 32, ResampleFilter.Bilinear);
        Assert.True(Differences(bicubic.Pixels, bilinear.Pixels, out _) > 100);
    }

    [Fact]
    public void Shortest_edge_size_truncates_like_python_int()
    {
        Assert.Equal((32, 42), ImageProcessor.ShortestEdgeSize(48, 64, 32));
        Assert.Equal((64, 32), ImageProcessor.ShortestEdgeSize(80, 40, 32));
        Assert.Equal((224, 298), ImageProcessor.ShortestEdgeSize(480, 640, 224)); // 298.67 → 298
    }

    [Fact]
    public void A_bad_config_names_the_file_and_the_key()
    {
        var dir = Directory.CreateTempSubdirectory("evalx-");
        try
        {
            var path = Path.Combine(dir.FullName, "preprocessor_config.json");
            File.WriteAllText(path, """{"image_processor_type": "CLIPImageProcessor", "resample": 1}""");
            var e = Assert.Throws<ConfigException>(() => ImageProcessor.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("resample", e.Message);
            File.WriteAllText(path, """{"image_processor_type": "ViTImageProcessor", "image_mean": [0.5, 0.5]}""");
            e = Assert.Throws<ConfigException>(() => ImageProcessor.Load(path));
            Assert.Contains("image_mean", e.Message);
            Assert.Throws<ConfigException>(() => ImageProcessor.Load(Path.Combine(dir.FullName, "missing.json")));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static string Folder(string name) => name == "tiny-clip" ? EvalFixtures.Clip : EvalFixtures.Dino;

    private static int Differences(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, out int largest)
    {
        int count = 0;
        largest = 0;
        for (int i = 0; i < a.Length; i++)
        {
            int d = Math.Abs(a[i] - b[i]);
            if (d != 0) count++;
            largest = Math.Max(largest, d);
        }
        return count;
    }
}
