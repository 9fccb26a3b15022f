using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Evaluation.Preprocessing;

/// <summary>Turns images into a model's <c>pixel_values</c> [N, 3, H, W] (NCHW, float, normalised).</summary>
public interface IImagePreprocessor
{
    /// <summary>The batch's pixel values; every image must come out the same size (<paramref name="height"/> × <paramref name="width"/>).</summary>
    float[] PixelValues(IReadOnlyList<RgbImage> images, out int height, out int width);
}
