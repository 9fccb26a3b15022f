using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Evaluation.Models;
using IlgpuDiffusion.Evaluation.Preprocessing;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Images;
using IlgpuDiffusion.Model.Loading;

namespace IlgpuDiffusion.Evaluation.Extractors;

/// <summary>
/// transformers' <c>ViTModel</c> in the layout of facebook/dino-vits16 (no pooler) as an image feature extractor:
/// the CLS token of <c>last_hidden_state</c>, after the final layer norm. Images go through the folder's
/// <c>ViTImageProcessor</c>.
/// <code>
/// using var dino = DinoModel.Load("models/dino-vits16", device);
/// float[][] features = dino.EmbedImages(pictures);
/// </code>
/// </summary>
public sealed class DinoModel : IImageEmbedder, IDisposable
{
    private readonly Device device;
    private readonly VitTower tower;

    private DinoModel(Device device, VisionConfig config, IImagePreprocessor processor, VitTower tower)
    {
        this.device = device;
        this.tower = tower;
        Config = config;
        Processor = processor;
    }

    public string Name => "dino";

    public int Dimension => Config.HiddenSize;

    public VisionConfig Config { get; }

    /// <summary>The folder's image processor, or the preprocessor given to <see cref="Load"/>.</summary>
    public IImagePreprocessor Processor { get; }

    /// <summary>
    /// Loads a Hugging Face ViT folder: config.json (ViTConfig), model.safetensors (names with or without the
    /// <c>vit.</c> prefix; a pooler or classifier head is ignored), preprocessor_config.json (unless
    /// <paramref name="preprocessor"/> replaces it, e.g. <see cref="TorchvisionCenterCrop.DinoEvaluation"/>).
    /// </summary>
    /// <exception cref="CheckpointException">A file is missing or the tensors do not match the config (the message names the file).</exception>
    /// <exception cref="ConfigException">A config file is invalid (named with the key).</exception>
    public static DinoModel Load(string folder, Device device, IImagePreprocessor? preprocessor = null)
    {
        const string what = "DINO ViT";
        var config = VisionConfig.Vit(ConfigJson.Load(ModelFolder.File(folder, "config.json", what)));
        var processor = preprocessor ?? ImageProcessor.Load(ModelFolder.File(folder, "preprocessor_config.json", what));
        string prefix = "";
        return ModelFolder.Load(folder, what, device, weights =>
        {
            prefix = weights.Contains("vit.embeddings.cls_token") ? "vit." : "";
            return new DinoModel(device, config, processor, new VitTower(config, weights, prefix));
        }, name => !name.StartsWith(prefix + "embeddings.", StringComparison.Ordinal) && !name.StartsWith(prefix + "encoder.", StringComparison.Ordinal)
                   && name != prefix + "layernorm.weight" && name != prefix + "layernorm.bias");
    }

    /// <summary>Pixel values F32 [N, 3, S, S] → last_hidden_state (after the final layer norm) and the CLS token.</summary>
    public TowerOutput EncodeImages(Tensor pixelValues)
    {
        using var _ = Grad.NoGrad();
        return tower.Forward(pixelValues);
    }

    public float[][] EmbedImages(IReadOnlyList<RgbImage> images) =>
        EmbeddingBatches.Images(images, Dimension, Processor, device, EncodeImages);

    public void Dispose() => tower.Dispose();
}
