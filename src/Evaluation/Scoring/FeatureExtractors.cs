using IlgpuDiffusion.Evaluation.Extractors;

namespace IlgpuDiffusion.Evaluation.Scoring;

/// <summary>The feature extractors a scoring uses: CLIP (images and texts, normally one <see cref="ClipModel"/>) and optionally DINO.</summary>
public sealed record FeatureExtractors(IImageEmbedder ClipImages, ITextEmbedder ClipTexts, IImageEmbedder? Dino = null)
{
    /// <summary>Both CLIP roles from one model.</summary>
    public static FeatureExtractors Of(ClipModel clip, IImageEmbedder? dino = null) => new(clip, clip, dino);
}
