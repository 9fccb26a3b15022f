using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Tests.Model.Images;

public class ImageTensorTests
{
    [Fact]
    public void Image_becomes_nchw_in_minus_one_to_one()
    {
        var image = TestImages.Noise(5, 3, seed: 6);

        var tensor = ImageTensor.ToNchw(image);

        Assert.Equal(3 * 3 * 5, tensor.Length);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 5; x++)
                {
                    byte value = image.Pixels[3 * (y * 5 + x) + c];
                    Assert.Equal(2f * (value / 255f) - 1f, tensor[(c * 3 + y) * 5 + x]);
                    Assert.Equal(value / 127.5 - 1, tensor[(c * 3 + y) * 5 + x], 1e-6);
                }
        Assert.Equal(-1f, ImageTensor.ToNchw(new RgbImage(1, 1, [0, 0, 0]))[0]);
        Assert.Equal(1f, ImageTensor.ToNchw(new RgbImage(1, 1, [255, 255, 255]))[0]);
    }

    [Fact]
    public void Image_to_tensor_and_back_is_lossless()
    {
        var image = TestImages.Noise(17, 9, seed: 7);

        var back = ImageTensor.ToImage(ImageTensor.ToNchw(image), 17, 9, PixelRange.MinusOneToOne);

        Assert.True(image.Pixels.SequenceEqual(back.Pixels));
    }

    [Theory]
    // diffusers: (x / 2 + 0.5).clamp(0, 1), then numpy_to_pil: (x * 255).round().astype("uint8"), round half to even.
    [InlineData(PixelRange.MinusOneToOne, -1f, 0)]
    [InlineData(PixelRange.MinusOneToOne, 1f, 255)]
    [InlineData(PixelRange.MinusOneToOne, 0f, 128)] // 127.5 → 128 (even)
    [InlineData(PixelRange.MinusOneToOne, -3f, 0)]
    [InlineData(PixelRange.MinusOneToOne, 2.5f, 255)]
    [InlineData(PixelRange.ZeroToOne, 0.5f, 128)]
    [InlineData(PixelRange.ZeroToOne, 0.001f, 0)] // 0.255
    [InlineData(PixelRange.ZeroToOne, 0.003f, 1)] // 0.765
    [InlineData(PixelRange.ZeroToOne, 0.5f / 255f, 0)] // 0.5 → 0 (even)
    [InlineData(PixelRange.ZeroToOne, 0.25f, 64)] // 63.75
    [InlineData(PixelRange.ZeroToOne, -0.2f, 0)]
    [InlineData(PixelRange.ZeroToOne, 1.2f, 255)]
    [InlineData(PixelRange.ZeroToOne, float.NaN, 0)]
    public void Tensor_values_quantize_as_diffusers_does(PixelRange range, float value, byte expected)
    {
        var image = ImageTensor.ToImage([value, value, value], 1, 1, range);
        Assert.Equal([expected, expected, expected], image.Pixels.ToArray());
    }

    [Fact]
    public void Tensor_of_the_wrong_length_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => ImageTensor.ToImage(new float[10], 2, 2, PixelRange.ZeroToOne));
        Assert.Contains("[1, 3, 2, 2]", e.Message);
    }

    [Fact]
    public void Nchw_to_nhwc_moves_channels_last()
    {
        const int n = 2, c = 3, h = 2, w = 4;
        var nchw = Enumerable.Range(0, n * c * h * w).Select(i => (float)i).ToArray();

        var nhwc = ImageTensor.NchwToNhwc(nchw, n, c, h, w);

        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        Assert.Equal(nchw[((b * c + ch) * h + y) * w + x], nhwc[((b * h + y) * w + x) * c + ch]);
        Assert.Throws<ArgumentException>(() => ImageTensor.NchwToNhwc(nchw, n, c, h, w + 1));
    }
}
