using IlgpuDiffusion.Model.Configs;

namespace IlgpuDiffusion.Model.Loading;

/// <summary>
/// VAE names → diffusers names. From LDM (<c>first_stage_model.*</c> without that prefix): <c>encoder.down.i.block.j</c>
/// → <c>encoder.down_blocks.i.resnets.j</c>, <c>down.i.downsample</c> → <c>down_blocks.i.downsamplers.0</c>,
/// <c>decoder.up.(L−1−i)</c> → <c>decoder.up_blocks.i</c> (LDM numbers decoder levels from the innermost),
/// <c>mid.block_1/2</c> → <c>mid_block.resnets.0/1</c>, <c>mid.attn_1</c> → <c>mid_block.attentions.0</c>,
/// <c>norm_out</c> → <c>conv_norm_out</c>, <c>nin_shortcut</c> → <c>conv_shortcut</c>. The mid-attention's inner
/// names come in three dialects: LDM <c>norm, q, k, v, proj_out</c>, old diffusers <c>group_norm, query, key, value,
/// proj_attn</c> (also seen in diffusers folders saved before 0.14), and current <c>group_norm, to_q, to_k, to_v,
/// to_out.0</c> (which diffusers' v0.21 converter left in single files); all become the current ones, and their
/// weights, stored as 1×1 convs [C, C, 1, 1] by LDM, become linear [C, C].
/// </summary>
internal static class VaeNames
{
    private static readonly IReadOnlyDictionary<string, string> Resnet = new Dictionary<string, string> { ["nin_shortcut"] = "conv_shortcut" };

    private static readonly IReadOnlyDictionary<string, string> Attention = new Dictionary<string, string>
    {
        ["norm"] = "group_norm",
        ["q"] = "to_q",
        ["k"] = "to_k",
        ["v"] = "to_v",
        ["proj_out"] = "to_out.0",
        ["query"] = "to_q",
        ["key"] = "to_k",
        ["value"] = "to_v",
        ["proj_attn"] = "to_out.0",
    };

    private static readonly string[] Coders = ["encoder", "decoder"];

    private static readonly string[] AttentionLinears = ["to_q", "to_k", "to_v", "to_out.0"];

    /// <summary>Renames old attention names in a diffusers folder; every other name is already a diffusers name.</summary>
    public static ModuleRenamer Diffusers { get; } = Coders.Aggregate(new ModuleRenamer(),
        (names, coder) => names.Add($"{coder}.mid_block.attentions.0", $"{coder}.mid_block.attentions.0", Attention));

    public static ModuleRenamer FromLdm(VaeConfig config)
    {
        int levels = config.Levels, layers = config.LayersPerBlock;
        var names = new ModuleRenamer()
            .Add("quant_conv", "quant_conv")
            .Add("post_quant_conv", "post_quant_conv");
        foreach (var coder in Coders)
            names.Add($"{coder}.conv_in", $"{coder}.conv_in")
                .Add($"{coder}.conv_out", $"{coder}.conv_out")
                .Add($"{coder}.norm_out", $"{coder}.conv_norm_out")
                .Add($"{coder}.mid.block_1", $"{coder}.mid_block.resnets.0", Resnet)
                .Add($"{coder}.mid.block_2", $"{coder}.mid_block.resnets.1", Resnet)
                .Add($"{coder}.mid.attn_1", $"{coder}.mid_block.attentions.0", Attention);
        for (int i = 0; i < levels; i++)
        {
            for (int j = 0; j < layers; j++) names.Add($"encoder.down.{i}.block.{j}", $"encoder.down_blocks.{i}.resnets.{j}", Resnet);
            if (i < levels - 1) names.Add($"encoder.down.{i}.downsample", $"encoder.down_blocks.{i}.downsamplers.0");
            int ldm = levels - 1 - i;
            for (int j = 0; j <= layers; j++) names.Add($"decoder.up.{ldm}.block.{j}", $"decoder.up_blocks.{i}.resnets.{j}", Resnet);
            if (i < levels - 1) names.Add($"decoder.up.{ldm}.upsample", $"decoder.up_blocks.{i}.upsamplers.0");
        }
        return names;
    }

    /// <summary>The shape a tensor has under its diffusers name: the mid-attention's [C, C, 1, 1] weights squeezed to [C, C].</summary>
    public static int[] Shape(string diffusersName, IReadOnlyList<int> fileShape)
    {
        bool attentionLinear = Coders.Any(coder => AttentionLinears.Any(linear => diffusersName == $"{coder}.mid_block.attentions.0.{linear}.weight"));
        return attentionLinear && fileShape is [var rows, var columns, 1, 1] ? [rows, columns] : [.. fileShape];
    }
}
