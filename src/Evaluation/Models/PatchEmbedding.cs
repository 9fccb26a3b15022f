using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Evaluation.Models;

/// <summary>Where a checkpoint keeps the ViT embedding tensors (CLIP's vision tower and transformers' ViT name them differently).</summary>
internal sealed record PatchEmbeddingNames(string PatchConv, bool PatchBias, string ClassToken, int[] ClassTokenShape, string Positions, Func<int, int, int[]> PositionShape)
{
    /// <summary>CLIPVisionEmbeddings under <c>vision_model.embeddings.</c>: conv without bias, class_embedding [C], position_embedding.weight [L, C].</summary>
    public static PatchEmbeddingNames Clip(int hidden) => new("vision_model.embeddings.patch_embedding", false, "vision_model.embeddings.class_embedding", [hidden],
        "vision_model.embeddings.position_embedding.weight", (tokens, channels) => [tokens, channels]);

    /// <summary>ViTEmbeddings under <paramref name="prefix"/><c>embeddings.</c>: conv with bias, cls_token [1, 1, C], position_embeddings [1, L, C].</summary>
    public static PatchEmbeddingNames Vit(string prefix, int hidden) => new(prefix + "embeddings.patch_embeddings.projection", true, prefix + "embeddings.cls_token", [1, 1, hidden],
        prefix + "embeddings.position_embeddings", (tokens, channels) => [1, tokens, channels]);
}

/// <summary>
/// A ViT's input embedding: non-overlapping patches (a conv with kernel = stride = patch size) in row-major order,
/// preceded by the class token, plus the position embeddings: [N, 3, H, W] pixels → [N, 1 + (H/p)(W/p), C].
/// </summary>
internal sealed class PatchEmbedding : Module
{
    private readonly VisionConfig config;
    private readonly Conv2dLayer patchConv;
    private readonly Var classToken, positions;

    public PatchEmbedding(VisionConfig config, WeightSet weights, PatchEmbeddingNames names)
    {
        this.config = config;
        int c = config.HiddenSize;
        patchConv = AddChild(Conv2dLayer.Load(weights, names.PatchConv, config.NumChannels, c, config.PatchSize,
            Conv2dParams.Symmetric(config.PatchSize, 0), names.PatchBias));
        using (var token = weights.Take(names.ClassToken, names.ClassTokenShape, DType.F32))
            classToken = AddParameter(names.ClassToken, Var.Constant(token.Reshape(1, c), names.ClassToken));
        using (var table = weights.Take(names.Positions, names.PositionShape(config.Tokens, c), DType.F32))
            positions = AddParameter(names.Positions, Var.Constant(table.Reshape(config.Tokens, c), names.Positions));
    }

    /// <summary>
    /// Pixel values F32 [N, channels, image_size, image_size] (NCHW, as the processors give them) → tokens [N, L, C].
    /// </summary>
    /// <exception cref="ArgumentException">The pixels are not of that dtype and shape.</exception>
    public Var Forward(Tensor pixelValues)
    {
        ArgumentNullException.ThrowIfNull(pixelValues);
        int size = config.ImageSize;
        var shape = pixelValues.Shape;
        if (pixelValues.DType != DType.F32 || shape.Rank != 4 || shape[1] != config.NumChannels || shape[2] != size || shape[3] != size)
            throw new ArgumentException($"pixel values are {pixelValues.DType} {shape}; the model expects F32 [N, {config.NumChannels}, {size}, {size}].", nameof(pixelValues));
        int batch = shape[0], patches = config.GridSize * config.GridSize, tokens = config.Tokens, c = config.HiddenSize;

        using var nhwc = Var.Constant(Layout.NchwToNhwc(pixelValues));
        using var grid = patchConv.Forward(nhwc);                    // [N, g, g, C]
        using var flat = Ops.Reshape(grid, batch * patches, c);
        // Token t of image n is patch row n·P + t − 1; the class token is the one extra row after the N·P patch rows.
        var rows = new int[batch * tokens];
        var places = new int[batch * tokens];
        for (int n = 0; n < batch; n++)
            for (int t = 0; t < tokens; t++)
            {
                rows[n * tokens + t] = t == 0 ? batch * patches : n * patches + t - 1;
                places[n * tokens + t] = t;
            }
        using var rowIds = Tensor.FromHost(pixelValues.Device, rows, batch, tokens);
        using var placeIds = Tensor.FromHost(pixelValues.Device, places, batch, tokens);
        using var sequence = Ops.Embedding(flat, classToken, rowIds);
        using var placed = Ops.Embedding(positions, placeIds);
        return Ops.Add(sequence, placed);
    }
}
