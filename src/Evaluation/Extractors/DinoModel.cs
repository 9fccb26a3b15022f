using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Evaluation.Extractors;

/// <summary>transformers' <c>ViTModel</c> (DINO layout) as an image feature extractor: the CLS token after the final layer norm.</summary>
public sealed class DinoModel : IImageEmbedder, IDisposable
{
    private DinoModel()
    {
    }

    public string Name => "dino";

    public int Dimension => throw new NotImplementedException();

    /// <summary>Loads a Hugging Face ViT folder (config.json, model.safetensors, preprocessor_config.json).</summary>
    public static DinoModel Load(string folder, Device device) => throw new NotImplementedException();

    public float[][] EmbedImages(IReadOnlyList<RgbImage> images) => throw new NotImplementedException();

    public void Dispose()
    {
    }
}
