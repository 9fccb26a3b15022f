using IlgpuDiffusion.Model.Configs;

namespace IlgpuDiffusion.Evaluation.Models;

/// <summary>transformers' <c>CLIPConfig</c>: the text tower, the vision tower and the shared projection width.</summary>
public sealed record ClipModelConfig(ClipTextConfig Text, VisionConfig Vision, int ProjectionDim)
{
    /// <summary>Reads a CLIPModel <c>config.json</c> (<c>text_config</c>, <c>vision_config</c>, <c>projection_dim</c>).</summary>
    /// <exception cref="ConfigException">The file is missing or a value is invalid; the message names the file and the key.</exception>
    public static ClipModelConfig Load(string path)
    {
        var json = ConfigJson.Load(path);
        int projection = json.Int("projection_dim", 512);
        if (projection < 1) throw json.Invalid("projection_dim", "must be positive");
        return new ClipModelConfig(ClipTextConfig.From(json.Section("text_config")), VisionConfig.ClipVision(json.Section("vision_config")), projection);
    }
}
