using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Evaluation.Preprocessing;

/// <summary>
/// The Hugging Face image processors (transformers 4.30 <c>CLIPImageProcessor</c>, <c>ViTImageProcessor</c>) on the
/// host, bit for bit: Pillow resize (<see cref="PillowResize"/>), center crop (top = (h − ch) // 2, left likewise),
/// then <c>x = float32(u8 · rescale_factor)</c> (the product in double) and <c>(x − float32(mean)) / float32(std)</c>
/// in float, channel-first.
/// </summary>
public sealed class ImageProcessor(ImageProcessorConfig config) : IImagePreprocessor
{
    public ImageProcessorConfig Config { get; } = config ?? throw new ArgumentNullException(nameof(config));

    /// <summary>Loads <c>preprocessor_config.json</c> from <paramref name="path"/>.</summary>
    public static ImageProcessor Load(string path) => new(ImageProcessorConfig.Load(path));

    /// <summary>The resize step alone (the image itself when <c>do_resize</c> is false).</summary>
    public RgbImage Resize(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (!Config.DoResize) return image;
        var (height, width) = Config.ShortestEdge is { } edge ? ShortestEdgeSize(image.Height, image.Width, edge) : (Config.ResizeHeight, Config.ResizeWidth);
        return PillowResize.Resize(image, width, height, Config.Resample);
    }

    /// <summary>transformers' <c>get_resize_output_image_size(default_to_square=False)</c>: short side → <paramref name="edge"/>, long side <c>int(edge · long / short)</c>.</summary>
    public static (int Height, int Width) ShortestEdgeSize(int height, int width, int edge)
    {
        bool tall = height >= width;
        int shortSide = tall ? width : height, longSide = tall ? height : width;
        int newLong = (int)((double)edge * longSide / shortSide);
        return tall ? (newLong, edge) : (edge, newLong);
    }

    /// <summary>Resize, center crop, rescale and normalize: the image's <c>pixel_values</c> [3, H, W].</summary>
    public float[] PixelValues(RgbImage image, out int height, out int width)
    {
        var resized = Resize(image);
        int top = 0, left = 0;
        (height, width) = (resized.Height, resized.Width);
        if (Config.DoCenterCrop)
        {
            if (Config.CropHeight > height || Config.CropWidth > width)
                throw new ArgumentException($"a {image.Width}x{image.Height} image resizes to {width}x{height}, smaller than the {Config.CropWidth}x{Config.CropHeight} crop.", nameof(image));
            (top, left) = ((height - Config.CropHeight) / 2, (width - Config.CropWidth) / 2);
            (height, width) = (Config.CropHeight, Config.CropWidth);
        }
        var pixels = resized.Pixels;
        var result = new float[3 * height * width];
        for (int c = 0; c < 3; c++)
        {
            float mean = (float)Config.ImageMean[c], std = (float)Config.ImageStd[c];
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    byte u8 = pixels[3 * ((y + top) * resized.Width + x + left) + c];
                    float value = Config.DoRescale ? (float)(u8 * Config.RescaleFactor) : u8;
                    if (Config.DoNormalize) value = (value - mean) / std;
                    result[(c * height + y) * width + x] = value;
                }
        }
        return result;
    }

    /// <summary>The batch's <c>pixel_values</c> [N, 3, H, W] (every image must come out the same size).</summary>
    public float[] PixelValues(IReadOnlyList<RgbImage> images, out int height, out int width)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("no images to preprocess.", nameof(images));
        (height, width) = (0, 0);
        float[]? batch = null;
        for (int i = 0; i < images.Count; i++)
        {
            var one = PixelValues(images[i], out int h, out int w);
            if (batch is null)
            {
                (height, width) = (h, w);
                batch = new float[images.Count * one.Length];
            }
            else if ((h, w) != (height, width))
            {
                throw new ArgumentException($"image {i} preprocesses to {w}x{h}, image 0 to {width}x{height}; a batch needs one size (set do_center_crop).", nameof(images));
            }
            one.CopyTo(batch, i * one.Length);
        }
        return batch!;
    }
}
