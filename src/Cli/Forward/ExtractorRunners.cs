using IlgpuDiffusion.Evaluation.Extractors;
using IlgpuDiffusion.Evaluation.Models;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Cli.Forward;

/// <summary><c>clip-image</c>: pixel_values [N, 3, S, S] → clip_image_embeds, clip_vision_pooled, clip_vision_last_hidden_state.</summary>
internal sealed class ClipImageRunner : IExtractorRunner
{
    public string Summary => "clip-image (--model a CLIP folder): pixel_values [N, 3, S, S] → clip_image_embeds, clip_vision_pooled, clip_vision_last_hidden_state";

    public IReadOnlyDictionary<string, Tensor> Run(string folder, Device device, ForwardInputs inputs)
    {
        using var pixels = inputs.Read("pixel_values", DType.F32, "N", "C", "H", "W");
        using var clip = ClipModel.Load(folder, device);
        using var output = clip.EncodeImages(pixels);
        return ExtractorOutputs.Named(output, "clip_vision_last_hidden_state", "clip_vision_pooled", "clip_image_embeds");
    }
}

/// <summary><c>clip-text</c>: input_ids [N, 77] → clip_text_embeds, clip_text_pooled, clip_text_last_hidden_state.</summary>
internal sealed class ClipTextRunner : IExtractorRunner
{
    public string Summary => "clip-text (--model a CLIP folder): input_ids [N, 77] → clip_text_embeds, clip_text_pooled, clip_text_last_hidden_state";

    public IReadOnlyDictionary<string, Tensor> Run(string folder, Device device, ForwardInputs inputs)
    {
        using var ids = inputs.Read("input_ids", DType.I32, "N", "L");
        using var clip = ClipModel.Load(folder, device);
        using var output = clip.EncodeTexts(ids);
        return ExtractorOutputs.Named(output, "clip_text_last_hidden_state", "clip_text_pooled", "clip_text_embeds");
    }
}

/// <summary><c>dino</c>: pixel_values [N, 3, S, S] → dino_cls, dino_last_hidden_state.</summary>
internal sealed class DinoRunner : IExtractorRunner
{
    public string Summary => "dino (--model a ViT/DINO folder): pixel_values [N, 3, S, S] → dino_cls, dino_last_hidden_state";

    public IReadOnlyDictionary<string, Tensor> Run(string folder, Device device, ForwardInputs inputs)
    {
        using var pixels = inputs.Read("pixel_values", DType.F32, "N", "C", "H", "W");
        using var dino = DinoModel.Load(folder, device);
        using var output = dino.EncodeImages(pixels);
        return ExtractorOutputs.Named(output, "dino_last_hidden_state", "dino_cls", null);
    }
}

/// <summary>A <see cref="TowerOutput"/>'s tensors under the given names (shared, so the caller owns them).</summary>
internal static class ExtractorOutputs
{
    public static IReadOnlyDictionary<string, Tensor> Named(TowerOutput output, string lastHiddenState, string pooled, string? embeds)
    {
        var named = new Dictionary<string, Tensor>
        {
            [lastHiddenState] = output.LastHiddenState.Value.Share(),
            [pooled] = output.Pooled.Value.Share(),
        };
        if (embeds is not null && output.Embeds is { } projected) named[embeds] = projected.Value.Share();
        return named;
    }
}
