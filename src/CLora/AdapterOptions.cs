namespace IlgpuDiffusion.CLora;

/// <summary>
/// Which linear layers <see cref="AdapterSet.Attach"/> adapts and how the fresh factors are drawn. The defaults are
/// C-LoRA's (docs/clora-spec.md §1): rank 16 on the K and V projections of every cross-attention layer.
/// </summary>
public sealed record AdapterOptions
{
    /// <summary>The diffusers names of the 32 cross-attention K/V projections of an SD 1.x UNet.</summary>
    public const string CrossAttentionKeyValue = @"attn2\.to_[kv]$";

    /// <summary>The adapter rank r (≥ 1).</summary>
    public int Rank { get; init; } = 16;

    /// <summary>A regular expression matched against each linear layer's diffusers name.</summary>
    public string TargetPattern { get; init; } = CrossAttentionKeyValue;

    /// <summary>The seed of the down factors' initialisation; the same seed gives the same factors on every device.</summary>
    public ulong Seed { get; init; }
}
