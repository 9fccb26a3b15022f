namespace IlgpuDiffusion.Model.Configs;

/// <summary>
/// The architecture of an SD 1.x <c>UNet2DConditionModel</c>, as in diffusers' <c>unet/config.json</c>. Per-block
/// lists have one entry per down block (<see cref="BlockOutChannels"/> order); up block i mirrors down block
/// <c>Levels − 1 − i</c>, and the mid block uses the last entry.
/// </summary>
public sealed record UNetConfig
{
    public const string CrossAttnDownBlock = "CrossAttnDownBlock2D";
    public const string DownBlock = "DownBlock2D";
    public const string CrossAttnUpBlock = "CrossAttnUpBlock2D";
    public const string UpBlock = "UpBlock2D";
    public const string CrossAttnMidBlock = "UNetMidBlock2DCrossAttn";

    /// <summary>Stable Diffusion 1.5 (also 1.1–1.4): widths 320/640/1280/1280, 2 layers per block, 8 heads, 768-wide text.</summary>
    public static UNetConfig StableDiffusion15 { get; } = new()
    {
        InChannels = 4,
        OutChannels = 4,
        SampleSize = 64,
        BlockOutChannels = [320, 640, 1280, 1280],
        DownBlockTypes = [CrossAttnDownBlock, CrossAttnDownBlock, CrossAttnDownBlock, DownBlock],
        UpBlockTypes = [UpBlock, CrossAttnUpBlock, CrossAttnUpBlock, CrossAttnUpBlock],
        MidBlockType = CrossAttnMidBlock,
        LayersPerBlock = 2,
        AttentionHeads = [8, 8, 8, 8],
        TransformerLayersPerBlock = [1, 1, 1, 1],
        OnlyCrossAttention = [false, false, false, false],
        CrossAttentionDim = 768,
        NormNumGroups = 32,
        NormEps = 1e-5,
        UseLinearProjection = false,
        FlipSinToCos = true,
        FreqShift = 0,
        ActFn = "silu",
        UpcastAttention = false,
    };

    public required int InChannels { get; init; }

    public required int OutChannels { get; init; }

    /// <summary>The latent side the model was trained at (64 for 512² images).</summary>
    public required int SampleSize { get; init; }

    /// <summary>The width of each level, outermost first.</summary>
    public required IReadOnlyList<int> BlockOutChannels { get; init; }

    public required IReadOnlyList<string> DownBlockTypes { get; init; }

    /// <summary>The up blocks in execution order (innermost level first).</summary>
    public required IReadOnlyList<string> UpBlockTypes { get; init; }

    public required string MidBlockType { get; init; }

    /// <summary>Resnets per down block; each up block has one more.</summary>
    public required int LayersPerBlock { get; init; }

    /// <summary>
    /// The NUMBER of attention heads per block. diffusers reads it from <c>num_attention_heads</c> when set, else
    /// from <c>attention_head_dim</c>, which in SD 1.x configs is misnamed and holds the head count (8), not the
    /// head width; the head width is the block's width divided by this.
    /// </summary>
    public required IReadOnlyList<int> AttentionHeads { get; init; }

    /// <summary>Transformer blocks inside each attention module (1 in SD 1.x).</summary>
    public required IReadOnlyList<int> TransformerLayersPerBlock { get; init; }

    /// <summary>When true for a block, its attn1 attends to the text instead of to itself (false in SD 1.x).</summary>
    public required IReadOnlyList<bool> OnlyCrossAttention { get; init; }

    /// <summary>The width of the text embeddings the cross-attention reads (attn2.to_k's input width).</summary>
    public required int CrossAttentionDim { get; init; }

    public required int NormNumGroups { get; init; }

    public required double NormEps { get; init; }

    /// <summary>True: the transformers' proj_in/proj_out are linear [C, C]; false: 1×1 convs [C, C, 1, 1].</summary>
    public required bool UseLinearProjection { get; init; }

    public required bool FlipSinToCos { get; init; }

    public required int FreqShift { get; init; }

    public required string ActFn { get; init; }

    /// <summary>Compute attention scores in F32 even for F16 weights.</summary>
    public required bool UpcastAttention { get; init; }

    /// <summary>The number of levels (down blocks).</summary>
    public int Levels => BlockOutChannels.Count;

    /// <summary>The timestep embedding width: 4 × the first level's width.</summary>
    public int TimeEmbeddingDim => 4 * BlockOutChannels[0];

    public bool DownBlockHasAttention(int block) => DownBlockTypes[block] == CrossAttnDownBlock;

    public bool UpBlockHasAttention(int block) => UpBlockTypes[block] == CrossAttnUpBlock;

    /// <summary>Reads a diffusers <c>unet/config.json</c>.</summary>
    public static UNetConfig Load(string path)
    {
        var json = ConfigJson.Load(path);
        foreach (var (key, value) in new[]
                 {
                     ("class_embed_type", "null"), ("num_class_embeds", "null"), ("addition_embed_type", "null"),
                     ("encoder_hid_dim", "null"), ("time_cond_proj_dim", "null"), ("time_embedding_type", "\"positional\""),
                     ("resnet_time_scale_shift", "\"default\""), ("conv_in_kernel", "3"), ("conv_out_kernel", "3"),
                     ("center_input_sample", "false"), ("dual_cross_attention", "false"),
                 })
            json.RequireDefault(key, value);
        var widths = json.Ints("block_out_channels");
        int levels = widths.Count;
        var headsKey = json.Has("num_attention_heads") ? "num_attention_heads" : "attention_head_dim";
        var config = new UNetConfig
        {
            InChannels = json.Int("in_channels"),
            OutChannels = json.Int("out_channels"),
            SampleSize = json.Int("sample_size", StableDiffusion15.SampleSize),
            BlockOutChannels = widths,
            DownBlockTypes = json.Strings("down_block_types"),
            UpBlockTypes = json.Strings("up_block_types"),
            MidBlockType = json.String("mid_block_type", CrossAttnMidBlock),
            LayersPerBlock = json.Int("layers_per_block"),
            AttentionHeads = json.IntPerBlock(headsKey, levels, fallback: null),
            TransformerLayersPerBlock = json.IntPerBlock("transformer_layers_per_block", levels, fallback: 1),
            OnlyCrossAttention = json.BoolPerBlock("only_cross_attention", levels, fallback: false),
            CrossAttentionDim = json.Int("cross_attention_dim"),
            NormNumGroups = json.Int("norm_num_groups", 32),
            NormEps = json.Double("norm_eps", 1e-5),
            UseLinearProjection = json.Bool("use_linear_projection", false),
            FlipSinToCos = json.Bool("flip_sin_to_cos", true),
            FreqShift = json.Int("freq_shift", 0),
            ActFn = json.String("act_fn", "silu"),
            UpcastAttention = json.Bool("upcast_attention", false),
        };
        config.Validate(path);
        return config;
    }

    /// <summary>
    /// Checks that the lists agree with each other and that the architecture is one the engine builds; throws a
    /// <see cref="ConfigException"/> naming <paramref name="source"/> and the key.
    /// </summary>
    public void Validate(string source)
    {
        void Check(bool ok, string key, string problem)
        {
            if (!ok) throw new ConfigException(source, key, problem);
        }

        Check(Levels >= 1 && BlockOutChannels.All(w => w > 0), "block_out_channels", "needs at least one positive width");
        Check(DownBlockTypes.Count == Levels, "down_block_types", $"has {DownBlockTypes.Count} entries for {Levels} levels");
        Check(UpBlockTypes.Count == Levels, "up_block_types", $"has {UpBlockTypes.Count} entries for {Levels} levels");
        Check(DownBlockTypes.All(t => t is CrossAttnDownBlock or DownBlock), "down_block_types",
            $"[{string.Join(", ", DownBlockTypes)}]: only {CrossAttnDownBlock} and {DownBlock} are supported");
        Check(UpBlockTypes.All(t => t is CrossAttnUpBlock or UpBlock), "up_block_types",
            $"[{string.Join(", ", UpBlockTypes)}]: only {CrossAttnUpBlock} and {UpBlock} are supported");
        Check(MidBlockType == CrossAttnMidBlock, "mid_block_type", $"'{MidBlockType}' is not supported (only {CrossAttnMidBlock})");
        Check(LayersPerBlock >= 1, "layers_per_block", $"{LayersPerBlock} is not positive");
        Check(InChannels >= 1 && OutChannels >= 1, "in_channels", "in_channels and out_channels must be positive");
        Check(CrossAttentionDim >= 1, "cross_attention_dim", $"{CrossAttentionDim} is not positive");
        Check(NormNumGroups >= 1 && BlockOutChannels.All(w => w % NormNumGroups == 0), "norm_num_groups",
            $"{NormNumGroups} groups do not divide every width [{string.Join(", ", BlockOutChannels)}]");
        Check(AttentionHeads.Count == Levels, "attention_head_dim", $"has {AttentionHeads.Count} entries for {Levels} levels");
        Check(TransformerLayersPerBlock.Count == Levels, "transformer_layers_per_block", $"has {TransformerLayersPerBlock.Count} entries for {Levels} levels");
        Check(OnlyCrossAttention.Count == Levels, "only_cross_attention", $"has {OnlyCrossAttention.Count} entries for {Levels} levels");
        for (int i = 0; i < Levels; i++)
        {
            Check(AttentionHeads[i] >= 1 && BlockOutChannels[i] % AttentionHeads[i] == 0, "attention_head_dim",
                $"{AttentionHeads[i]} heads do not divide block {i}'s width {BlockOutChannels[i]}");
            Check(TransformerLayersPerBlock[i] >= 1, "transformer_layers_per_block", $"block {i} has {TransformerLayersPerBlock[i]}");
        }
    }
}
