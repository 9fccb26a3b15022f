using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Evaluation.Extractors;

/// <summary>
/// transformers' <c>CLIPModel</c> as a feature extractor: the vision tower with its visual projection
/// (<c>get_image_features</c>) and the text tower with its text projection (<c>get_text_features</c>).
/// </summary>
public sealed class ClipModel : IImageEmbedder, ITextEmbedder, IDisposable
{
    private ClipModel()
    {
    }

    public string Name => "clip";

    public int Dimension => throw new NotImplementedException();

    /// <summary>Loads a Hugging Face CLIP folder (config.json, model.safetensors, preprocessor_config.json, vocab.json, merges.txt).</summary>
    public static ClipModel Load(string folder, Device device) => throw new NotImplementedException();

    public float[][] EmbedImages(IReadOnlyList<RgbImage> images) => throw new NotImplementedException();

    public float[][] EmbedTexts(IReadOnlyList<string> prompts) => throw new NotImplementedException();

    public void Dispose()
    {
    }
}
