namespace IlgpuDiffusion.Model.Configs;

/// <summary>
/// The architecture of an SD 1.x <c>AutoencoderKL</c>, as in diffusers' <c>vae/config.json</c>: an encoder of
/// <see cref="Levels"/> DownEncoderBlock2D levels and a mirrored decoder of UpDecoderBlock2D levels.
/// </summary>
public sealed record VaeConfig
{
    public const string DownBlock = "DownEncoderBlock2D";
    public const string UpBlock = "UpDecoderBlock2D";

    /// <summary>Stable Diffusion 1.x: widths 128/256/512/512, 2 layers per block, 4 latent channels, scaling 0.18215.</summary>
    public static VaeConfig StableDiffusion15 { get; } = new()
    {
        InChannels = 3,
        OutChannels = 3,
        LatentChannels = 4,
        BlockOutChannels = [128, 256, 512, 512],
        LayersPerBlock = 2,
        NormNumGroups = 32,
        ScalingFactor = 0.18215,
        SampleSize = 512,
        ActFn = "silu",
    };

    public required int InChannels { get; init; }

    public required int OutChannels { get; init; }

    public required int LatentChannels { get; init; }

    /// <summary>The encoder's widths, outermost first; the decoder runs them in reverse.</summary>
    public required IReadOnlyList<int> BlockOutChannels { get; init; }

    /// <summary>Resnets per encoder level; each decoder level has one more.</summary>
    public required int LayersPerBlock { get; init; }

    public required int NormNumGroups { get; init; }

    /// <summary>Latents are multiplied by this after encoding and divided by it before decoding.</summary>
    public required double ScalingFactor { get; init; }

    /// <summary>The image side the model was trained at.</summary>
    public required int SampleSize { get; init; }

    public required string ActFn { get; init; }

    /// <summary>The number of levels; the image is downsampled by 2^(Levels − 1).</summary>
    public int Levels => BlockOutChannels.Count;

    /// <summary>Reads a diffusers <c>vae/config.json</c>.</summary>
    public static VaeConfig Load(string path)
    {
        var json = ConfigJson.Load(path);
        var widths = json.Ints("block_out_channels");
        CheckBlockTypes(json, "down_block_types", DownBlock, widths.Count);
        CheckBlockTypes(json, "up_block_types", UpBlock, widths.Count);
        var config = new VaeConfig
        {
            InChannels = json.Int("in_channels", 3),
            OutChannels = json.Int("out_channels", 3),
            LatentChannels = json.Int("latent_channels"),
            BlockOutChannels = widths,
            LayersPerBlock = json.Int("layers_per_block"),
            NormNumGroups = json.Int("norm_num_groups", 32),
            ScalingFactor = json.Double("scaling_factor", StableDiffusion15.ScalingFactor),
            SampleSize = json.Int("sample_size", StableDiffusion15.SampleSize),
            ActFn = json.String("act_fn", "silu"),
        };
        config.Validate(path);
        return config;
    }

    /// <summary>Checks sizes and divisibility; throws a <see cref="ConfigException"/> naming <paramref name="source"/> and the key.</summary>
    public void Validate(string source)
    {
        void Check(bool ok, string key, string problem)
        {
            if (!ok) throw new ConfigException(source, key, problem);
        }

        Check(Levels >= 1 && BlockOutChannels.All(w => w > 0), "block_out_channels", "needs at least one positive width");
        Check(LayersPerBlock >= 1, "layers_per_block", $"{LayersPerBlock} is not positive");
        Check(InChannels >= 1 && OutChannels >= 1 && LatentChannels >= 1, "latent_channels", "channel counts must be positive");
        Check(NormNumGroups >= 1 && BlockOutChannels.All(w => w % NormNumGroups == 0), "norm_num_groups",
            $"{NormNumGroups} groups do not divide every width [{string.Join(", ", BlockOutChannels)}]");
        Check(ScalingFactor > 0, "scaling_factor", $"{ScalingFactor} is not positive");
    }

    /// <summary>The block type lists are optional, but when present they must name only the SD 1.x blocks, one per level.</summary>
    private static void CheckBlockTypes(ConfigJson json, string key, string expected, int levels)
    {
        if (json.OptionalStrings(key) is not { } types) return;
        if (types.Count != levels || types.Any(t => t != expected))
            throw json.Invalid(key, $"[{string.Join(", ", types)}]: expected {levels} × {expected}");
    }
}
