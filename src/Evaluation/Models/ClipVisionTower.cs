using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;
using IlgpuDiffusion.Model.TextEncoder;

namespace IlgpuDiffusion.Evaluation.Models;

/// <summary>
/// transformers' CLIPVisionTransformer with CLIPModel's <c>visual_projection</c>: patch embedding, <c>pre_layrnorm</c>,
/// the encoder (bidirectional), <c>post_layernorm</c> on the class token only, then the projection (no bias).
/// </summary>
internal sealed class ClipVisionTower : Module
{
    private const string Prefix = "vision_model.";

    private readonly PatchEmbedding embeddings;
    private readonly LayerNormLayer preLayerNorm, postLayerNorm;
    private readonly IReadOnlyList<ClipEncoderLayer> layers;
    private readonly LinearLayer projection;

    public ClipVisionTower(VisionConfig config, int projectionDim, WeightSet weights)
    {
        float eps = (float)config.LayerNormEps;
        embeddings = AddChild(new PatchEmbedding(config, weights, PatchEmbeddingNames.Clip(config.HiddenSize)));
        weights.Skip(Prefix + "embeddings.position_ids");
        preLayerNorm = AddChild(new LayerNormLayer(weights, Prefix + "pre_layrnorm", config.HiddenSize, eps));
        var spec = config.LayerSpec(EncoderLayerNames.Clip);
        layers = [.. Enumerable.Range(0, config.NumHiddenLayers).Select(i => AddChild(new ClipEncoderLayer(weights, $"{Prefix}encoder.layers.{i}.", spec)))];
        postLayerNorm = AddChild(new LayerNormLayer(weights, Prefix + "post_layernorm", config.HiddenSize, eps));
        projection = AddChild(LinearLayer.Load(weights, "visual_projection", config.HiddenSize, projectionDim, bias: false));
    }

    /// <summary>Pixel values F32 [N, 3, S, S] → last_hidden_state (before post_layernorm), pooled output and image embeds.</summary>
    public TowerOutput Forward(Tensor pixelValues)
    {
        var hidden = embeddings.Forward(pixelValues);
        using (var input = hidden) hidden = preLayerNorm.Forward(input);
        foreach (var layer in layers)
            using (var input = hidden)
                hidden = layer.Forward(input);
        Var? pooled = null;
        try
        {
            using (var cls = SequenceRows.First(hidden)) pooled = postLayerNorm.Forward(cls);
            return new TowerOutput(hidden, pooled, projection.Forward(pooled));
        }
        catch
        {
            hidden.Dispose();
            pooled?.Dispose();
            throw;
        }
    }
}
