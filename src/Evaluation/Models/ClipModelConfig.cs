using IlgpuDiffusion.Model.Configs;

namespace IlgpuDiffusion.Evaluation.Models;

/// <summary>transformers' <c>CLIPConfig</c>: the text tower, the vision tower and the shared projection width.</summary>
public sealed record ClipModelConfig(ClipTextConfig Text, VisionConfig Vision, int ProjectionDim)
{
    /// <summary>transformers' <c>CLIPTextConfig()</c> defaults (openai/clip-vit-base-patch32's text tower).</summary>
    private static readonly ClipTextConfig TextDefaults = new()
    {
        VocabSize = 49408,
        HiddenSize = 512,
        NumHiddenLayers = 12,
        NumAttentionHeads = 8,
        IntermediateSize = 2048,
        MaxPositionEmbeddings = 77,
        HiddenAct = "quick_gelu",
        LayerNormEps = 1e-5,
    };

    /// <summary>
    /// Reads a CLIPModel <c>config.json</c> (<c>text_config</c>, <c>vision_config</c>, <c>projection_dim</c>); absent
    /// keys take transformers' CLIPConfig defaults, as newer transformers save only what differs from them.
    /// </summary>
    /// <exception cref="ConfigException">The file is missing or a value is invalid; the message names the file and the key.</exception>
    public static ClipModelConfig Load(string path)
    {
        var json = ConfigJson.Load(path);
        int projection = json.Int("projection_dim", 512);
        if (projection < 1) throw json.Invalid("projection_dim", "must be positive");
        return new ClipModelConfig(ClipTextConfig.From(json.Section("text_config"), TextDefaults), VisionConfig.ClipVision(json.Section("vision_config")), projection);
    }
}
