using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Tests.Model.Images;

public class RgbImageTests
{
    [Fact]
    public void Pixel_buffer_of_the_wrong_size_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new RgbImage(4, 3, new byte[35]));
        Assert.Contains("36", e.Message);
    }

    [Fact]
    public void Flip_mirrors_each_row()
    {
        var image = TestImages.Noise(5, 3, seed: 4);

        var flipped = image.FlipHorizontal();

        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 5; x++)
                Assert.Equal(TestImages.At(image, 4 - x, y), TestImages.At(flipped, x, y));
        Assert.True(image.Pixels.SequenceEqual(flipped.FlipHorizontal().Pixels));
    }

    [Theory]
    [InlineData(100, 18)] // (100 − 64) / 2 = 18
    [InlineData(101, 18)] // 18.5 rounds to even, as Python's round in torchvision's CenterCrop
    [InlineData(103, 20)] // 19.5 rounds to even
    public void A_side_already_at_the_resolution_is_only_cropped_at_the_centre(int width, int left)
    {
        var image = TestImages.Noise(width, 64, seed: width);

        var cropped = image.ResizeAndCenterCrop(64, 64);

        Assert.Equal((64, 64), (cropped.Width, cropped.Height));
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++)
                Assert.Equal(TestImages.At(image, x + left, y), TestImages.At(cropped, x, y));
    }

    [Fact]
    public void Landscape_is_scaled_by_its_short_side_then_centre_cropped()
    {
        // 300 x 200 → 192 x 128 → crop columns 32..159, i.e. source columns 50..249: red | green | blue thirds.
        var image = TestImages.Painted(300, 200, (x, _) => x < 100 ? ((byte)255, (byte)0, (byte)0) : x < 200 ? ((byte)0, (byte)255, (byte)0) : ((byte)0, (byte)0, (byte)255));

        var result = image.ResizeAndCenterCrop(128, 128);

        Assert.Equal((128, 128), (result.Width, result.Height));
        AssertClose((255, 0, 0), TestImages.At(result, 10, 64)); // source column ≈ 65
        AssertClose((0, 255, 0), TestImages.At(result, 64, 64)); // ≈ 150
        AssertClose((0, 0, 255), TestImages.At(result, 120, 64)); // ≈ 237
    }

    [Fact]
    public void Portrait_is_scaled_by_its_short_side_then_centre_cropped()
    {
        // 200 x 300 → 64 x 96 → crop rows 16..79, i.e. source rows 50..249.
        var image = TestImages.Painted(200, 300, (_, y) => y < 100 ? ((byte)255, (byte)255, (byte)255) : ((byte)0, (byte)0, (byte)0));

        var result = image.ResizeAndCenterCrop(64, 64);

        Assert.Equal((64, 64), (result.Width, result.Height));
        AssertClose((255, 255, 255), TestImages.At(result, 32, 5)); // source row ≈ 65
        AssertClose((0, 0, 0), TestImages.At(result, 32, 40)); // ≈ 175
    }

    [Fact]
    public void A_small_image_is_scaled_up_to_cover_a_non_square_target()
    {
        var result = TestImages.Noise(40, 30, seed: 5).ResizeAndCenterCrop(96, 48);
        Assert.Equal((96, 48), (result.Width, result.Height));
    }

    private static void AssertClose((int R, int G, int B) expected, (byte R, byte G, byte B) actual)
    {
        Assert.InRange(actual.R, expected.R - 1, expected.R + 1);
        Assert.InRange(actual.G, expected.G - 1, expected.G + 1);
        Assert.InRange(actual.B, expected.B - 1, expected.B + 1);
    }
}
