using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Evaluation.Extractors;

/// <summary>
/// An image feature extractor (CLIP vision tower, DINO ViT): preprocesses each image as its Hugging Face processor
/// does and returns one embedding per image, on the host, not normalised.
/// </summary>
public interface IImageEmbedder
{
    /// <summary>A short name for reports, e.g. <c>clip</c> or <c>dino</c>.</summary>
    string Name { get; }

    /// <summary>The length of each embedding.</summary>
    int Dimension { get; }

    /// <summary>One embedding of length <see cref="Dimension"/> per image, in order.</summary>
    float[][] EmbedImages(IReadOnlyList<RgbImage> images);
}
