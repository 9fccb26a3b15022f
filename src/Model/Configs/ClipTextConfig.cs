namespace IlgpuDiffusion.Model.Configs;

/// <summary>The architecture of a CLIP text encoder (transformers' <c>CLIPTextModel</c>, <c>text_encoder/config.json</c>).</summary>
public sealed record ClipTextConfig
{
    /// <summary>The text tower of OpenAI's CLIP ViT-L/14, which SD 1.x conditions on.</summary>
    public static ClipTextConfig VitL14 { get; } = new()
    {
        VocabSize = 49408,
        HiddenSize = 768,
        NumHiddenLayers = 12,
        NumAttentionHeads = 12,
        IntermediateSize = 3072,
        MaxPositionEmbeddings = 77,
        HiddenAct = "quick_gelu",
        LayerNormEps = 1e-5,
        ProjectionDim = 768,
    };

    public required int VocabSize { get; init; }

    public required int HiddenSize { get; init; }

    public required int NumHiddenLayers { get; init; }

    public required int NumAttentionHeads { get; init; }

    /// <summary>The MLP's inner width (fc1's output).</summary>
    public required int IntermediateSize { get; init; }

    /// <summary>The sequence length (77 for SD 1.x).</summary>
    public required int MaxPositionEmbeddings { get; init; }

    /// <summary>The MLP activation: "quick_gelu" (x·σ(1.702x)) for SD 1.x, or "gelu".</summary>
    public required string HiddenAct { get; init; }

    public required double LayerNormEps { get; init; }

    /// <summary>The width of the text projection of the full CLIP model; SD 1.x's text encoder does not use it.</summary>
    public int? ProjectionDim { get; init; }

    /// <summary>The width of one attention head.</summary>
    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>Reads a transformers <c>text_encoder/config.json</c>.</summary>
    public static ClipTextConfig Load(string path) => From(ConfigJson.Load(path));

    /// <summary>
    /// Reads the text config from <paramref name="json"/> (a file, or CLIPConfig's <c>text_config</c> section). With
    /// <paramref name="defaults"/>, absent keys take its values (configs saved as a diff from the class defaults);
    /// without, the sizes are required.
    /// </summary>
    internal static ClipTextConfig From(ConfigJson json, ClipTextConfig? defaults = null)
    {
        int Size(string key, Func<ClipTextConfig, int> fallback) => defaults is null ? json.Int(key) : json.Int(key, fallback(defaults));
        var config = new ClipTextConfig
        {
            VocabSize = Size("vocab_size", d => d.VocabSize),
            HiddenSize = Size("hidden_size", d => d.HiddenSize),
            NumHiddenLayers = Size("num_hidden_layers", d => d.NumHiddenLayers),
            NumAttentionHeads = Size("num_attention_heads", d => d.NumAttentionHeads),
            IntermediateSize = Size("intermediate_size", d => d.IntermediateSize),
            MaxPositionEmbeddings = Size("max_position_embeddings", d => d.MaxPositionEmbeddings),
            HiddenAct = json.String("hidden_act", "quick_gelu"),
            LayerNormEps = json.Double("layer_norm_eps", 1e-5),
            ProjectionDim = json.OptionalInt("projection_dim"),
        };
        config.Validate(json.Path);
        return config;
    }

    /// <summary>Checks sizes and divisibility; throws a <see cref="ConfigException"/> naming <paramref name="source"/> and the key.</summary>
    public void Validate(string source)
    {
        void Check(bool ok, string key, string problem)
        {
            if (!ok) throw new ConfigException(source, key, problem);
        }

        Check(VocabSize >= 1 && NumHiddenLayers >= 1 && IntermediateSize >= 1 && MaxPositionEmbeddings >= 1, "num_hidden_layers",
            "vocab_size, num_hidden_layers, intermediate_size and max_position_embeddings must be positive");
        Check(NumAttentionHeads >= 1 && HiddenSize >= 1 && HiddenSize % NumAttentionHeads == 0, "num_attention_heads",
            $"{NumAttentionHeads} heads do not divide hidden_size {HiddenSize}");
    }
}
