using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Evaluation.Preprocessing;

/// <summary>
/// The torchvision 0.14 pipeline DreamBooth-style evaluations use for DINO: <c>Resize(resize, filter)</c> (shortest
/// side → resize, long side <c>int(resize · long / short)</c>, through Pillow), <c>CenterCrop(crop)</c> (offsets
/// <c>round((size − crop) / 2)</c>, ties to even), <c>ToTensor</c> (u8 / 255 in float) and <c>Normalize(mean, std)</c>
/// in float.
/// </summary>
public sealed class TorchvisionCenterCrop : IImagePreprocessor
{
    private static readonly double[] ImageNetMean = [0.485, 0.456, 0.406];
    private static readonly double[] ImageNetStd = [0.229, 0.224, 0.225];

    private readonly float[] mean, std;

    public TorchvisionCenterCrop(int resize, int crop, ResampleFilter filter, IReadOnlyList<double> mean, IReadOnlyList<double> std)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(crop);
        ArgumentOutOfRangeException.ThrowIfLessThan(resize, crop);
        if (mean.Count != 3 || std.Count != 3 || std.Any(s => s <= 0))
            throw new ArgumentException("mean and std need 3 values (R, G, B), std positive.", nameof(std));
        Resize = resize;
        Crop = crop;
        Filter = filter;
        this.mean = [.. mean.Select(m => (float)m)];
        this.std = [.. std.Select(s => (float)s)];
    }

    public int Resize { get; }

    public int Crop { get; }

    public ResampleFilter Filter { get; }

    /// <summary>
    /// <c>Resize(int(crop · 256 / 224), BICUBIC)</c>, <c>CenterCrop(crop)</c>, ImageNet normalisation: the DINO
    /// transform of the DreamBooth evaluation (crop 224 resizes to 256).
    /// </summary>
    public static TorchvisionCenterCrop DinoEvaluation(int crop) =>
        new((int)(crop * 256.0 / 224), crop, ResampleFilter.Bicubic, ImageNetMean, ImageNetStd);

    /// <summary>The resize step alone.</summary>
    public RgbImage ResizeShortestSide(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var (height, width) = ImageProcessor.ShortestEdgeSize(image.Height, image.Width, Resize);
        return PillowResize.Resize(image, width, height, Filter);
    }

    public float[] PixelValues(IReadOnlyList<RgbImage> images, out int height, out int width)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("no images to preprocess.", nameof(images));
        (height, width) = (Crop, Crop);
        int plane = Crop * Crop;
        var result = new float[images.Count * 3 * plane];
        for (int i = 0; i < images.Count; i++)
        {
            var resized = ResizeShortestSide(images[i]);
            int top = (int)Math.Round((resized.Height - Crop) / 2.0, MidpointRounding.ToEven);
            int left = (int)Math.Round((resized.Width - Crop) / 2.0, MidpointRounding.ToEven);
            var pixels = resized.Pixels;
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < Crop; y++)
                    for (int x = 0; x < Crop; x++)
                    {
                        float value = pixels[3 * ((y + top) * resized.Width + x + left) + c] / 255f;
                        result[((i * 3 + c) * Crop + y) * Crop + x] = (value - mean[c]) / std[c];
                    }
        }
        return result;
    }
}
