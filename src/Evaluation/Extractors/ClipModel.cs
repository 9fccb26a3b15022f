using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Evaluation.Models;
using IlgpuDiffusion.Evaluation.Preprocessing;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Images;
using IlgpuDiffusion.Model.Text;
using IlgpuDiffusion.Model.TextEncoder;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Evaluation.Extractors;

/// <summary>
/// transformers' <c>CLIPModel</c> as a feature extractor: the vision tower with its visual projection
/// (<c>get_image_features</c>) and the text tower with its text projection (<c>get_text_features</c>, pooled at the
/// first occurrence of the largest id, the end token). Images go through the folder's <c>CLIPImageProcessor</c>,
/// prompts through its tokenizer (77 tokens, padded with the end token).
/// <code>
/// using var clip = ClipModel.Load("models/clip-vit-large-patch14", device);
/// float[][] images = clip.EmbedImages(pictures);
/// float[][] texts = clip.EmbedTexts(["a photo of a dog"]);
/// </code>
/// </summary>
public sealed class ClipModel : IImageEmbedder, ITextEmbedder, IDisposable
{
    private readonly Device device;
    private readonly ClipVisionTower vision;
    private readonly ClipTextEncoder text;
    private readonly LinearLayer textProjection;
    private readonly ClipTokenizer tokenizer;

    private ClipModel(Device device, ClipModelConfig config, ImageProcessor processor, ClipTokenizer tokenizer, WeightSet weights)
    {
        this.device = device;
        this.tokenizer = tokenizer;
        Config = config;
        Processor = processor;
        vision = new ClipVisionTower(config.Vision, config.ProjectionDim, weights);
        text = new ClipTextEncoder(config.Text, weights);
        textProjection = LinearLayer.Load(weights, "text_projection", config.Text.HiddenSize, config.ProjectionDim, bias: false);
        weights.Skip("logit_scale");
    }

    public string Name => "clip";

    public int Dimension => Config.ProjectionDim;

    public ClipModelConfig Config { get; }

    /// <summary>The folder's image processor.</summary>
    public ImageProcessor Processor { get; }

    /// <summary>
    /// Loads a Hugging Face CLIP folder: config.json (CLIPConfig), model.safetensors, preprocessor_config.json,
    /// vocab.json and merges.txt.
    /// </summary>
    /// <exception cref="CheckpointException">A file is missing or the tensors do not match the config (the message names the file).</exception>
    /// <exception cref="IlgpuDiffusion.Model.Configs.ConfigException">A config file is invalid (named with the key).</exception>
    public static ClipModel Load(string folder, Device device)
    {
        const string what = "CLIP";
        var config = ClipModelConfig.Load(ModelFolder.File(folder, "config.json", what));
        var processor = ImageProcessor.Load(ModelFolder.File(folder, "preprocessor_config.json", what));
        ModelFolder.File(folder, "vocab.json", what);
        ModelFolder.File(folder, "merges.txt", what);
        var tokenizer = ClipTokenizer.FromFolder(folder);
        return ModelFolder.Load(folder, what, device, weights => new ClipModel(device, config, processor, tokenizer, weights));
    }

    /// <summary>Pixel values F32 [N, 3, S, S] → the vision tower's last hidden state, pooled output and image embeds.</summary>
    public TowerOutput EncodeImages(Tensor pixelValues)
    {
        using var _ = Grad.NoGrad();
        return vision.Forward(pixelValues);
    }

    /// <summary>
    /// Token ids I32 [N, L] (L ≤ 77; bos, tokens, end token, padding) → the text tower's last hidden state, the row at
    /// each sequence's first largest id, and the text embeds.
    /// </summary>
    public TowerOutput EncodeTexts(Tensor inputIds)
    {
        using var _ = Grad.NoGrad();
        var output = text.Encode(inputIds);
        try
        {
            return new TowerOutput(output.LastHiddenState, output.PoolerOutput, textProjection.Forward(output.PoolerOutput));
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    public float[][] EmbedImages(IReadOnlyList<RgbImage> images) =>
        EmbeddingBatches.Images(images, Dimension, Processor, device, EncodeImages);

    public float[][] EmbedTexts(IReadOnlyList<string> prompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        return EmbeddingBatches.Run(Dimension, prompts.Count, (start, count) =>
        {
            var ids = prompts.Skip(start).Take(count).SelectMany(tokenizer.Encode).ToArray();
            using var input = Tensor.FromHost(device, ids, count, ClipTokenizer.MaxLength);
            using var output = EncodeTexts(input);
            return output.Features.Value.ToFloatArray();
        });
    }

    public void Dispose()
    {
        vision.Dispose();
        text.Dispose();
        textProjection.Dispose();
    }
}
