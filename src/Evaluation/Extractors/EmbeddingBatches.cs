using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Evaluation.Models;
using IlgpuDiffusion.Evaluation.Preprocessing;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Evaluation.Extractors;

/// <summary>Splits a list of inputs into forward passes of bounded size and the results into one vector per input.</summary>
internal static class EmbeddingBatches
{
    /// <summary>Inputs per forward pass.</summary>
    public const int Size = 16;

    /// <summary>
    /// Calls <paramref name="embed"/>(start, count) for consecutive batches of at most <see cref="Size"/> of the
    /// <paramref name="total"/> inputs; each call returns [count, <paramref name="dimension"/>] row-major.
    /// </summary>
    public static float[][] Run(int dimension, int total, Func<int, int, float[]> embed)
    {
        var result = new float[total][];
        for (int start = 0; start < total; start += Size)
        {
            int count = Math.Min(Size, total - start);
            var flat = embed(start, count);
            if (flat.Length != count * dimension)
                throw new InvalidOperationException($"a batch of {count} gave {flat.Length} values, expected {count} x {dimension}.");
            for (int i = 0; i < count; i++) result[start + i] = flat.AsSpan(i * dimension, dimension).ToArray();
        }
        return result;
    }

    /// <summary>
    /// Preprocesses <paramref name="images"/> in batches, runs <paramref name="encode"/> on their pixel values
    /// [count, 3, H, W] on <paramref name="device"/> and returns each image's features.
    /// </summary>
    public static float[][] Images(IReadOnlyList<RgbImage> images, int dimension, IImagePreprocessor processor, Device device,
        Func<Tensor, TowerOutput> encode)
    {
        ArgumentNullException.ThrowIfNull(images);
        return Run(dimension, images.Count, (start, count) =>
        {
            var pixels = processor.PixelValues([.. images.Skip(start).Take(count)], out int height, out int width);
            using var input = Tensor.FromHost(device, pixels, count, 3, height, width);
            using var output = encode(input);
            return output.Features.Value.ToFloatArray();
        });
    }
}
