using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;
using IlgpuDiffusion.Model.TextEncoder;

namespace IlgpuDiffusion.Evaluation.Models;

/// <summary>
/// transformers' ViTModel without pooler (DINO checkpoints): patch embedding with bias and cls token, the pre-LN
/// encoder (exact GELU, q/k/v biases), the final <c>layernorm</c> over every token; the CLS output is its first token.
/// </summary>
internal sealed class VitTower : Module
{
    private readonly PatchEmbedding embeddings;
    private readonly IReadOnlyList<ClipEncoderLayer> layers;
    private readonly LayerNormLayer layerNorm;

    /// <summary>Loads the tensors under <paramref name="prefix"/> ("" for DINO's converted checkpoints, "vit." inside a classifier).</summary>
    public VitTower(VisionConfig config, WeightSet weights, string prefix)
    {
        embeddings = AddChild(new PatchEmbedding(config, weights, PatchEmbeddingNames.Vit(prefix, config.HiddenSize)));
        var spec = config.LayerSpec(EncoderLayerNames.Vit);
        layers = [.. Enumerable.Range(0, config.NumHiddenLayers).Select(i => AddChild(new ClipEncoderLayer(weights, $"{prefix}encoder.layer.{i}.", spec)))];
        layerNorm = AddChild(new LayerNormLayer(weights, prefix + "layernorm", config.HiddenSize, (float)config.LayerNormEps));
    }

    /// <summary>Pixel values F32 [N, 3, S, S] → last_hidden_state (after the final layernorm) and its CLS token.</summary>
    public TowerOutput Forward(Tensor pixelValues)
    {
        var hidden = embeddings.Forward(pixelValues);
        foreach (var layer in layers)
            using (var input = hidden)
                hidden = layer.Forward(input);
        using (var input = hidden) hidden = layerNorm.Forward(input);
        try
        {
            return new TowerOutput(hidden, SequenceRows.First(hidden), null);
        }
        catch
        {
            hidden.Dispose();
            throw;
        }
    }
}
