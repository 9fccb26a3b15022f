using IlgpuDiffusion.Model.Configs;

namespace IlgpuDiffusion.Model.Loading;

/// <summary>
/// The CompVis/LDM names of a UNet (<c>model.diffusion_model.*</c> without that prefix) → diffusers names, built
/// from the config's number of levels, layers per block and block types. With L = layers per block, LDM numbers
/// the down path <c>input_blocks.k</c>: k = 0 is conv_in, level i's layer j is k = (L+1)·i + j + 1 (<c>.0</c>
/// resnet, <c>.1</c> attention) and its downsampler is k = (L+1)·(i+1) (<c>.0.op</c>); the up path
/// <c>output_blocks.k</c> has L + 1 layers per level, k = (L+1)·i + j, with the upsampler after the last layer's
/// resnet (and attention). Resnet sub-modules are renamed; attention modules have the same inner names in both.
/// <see cref="ToLdm"/> maps the other way, for files that name UNet modules the LDM way (older kohya LoRAs).
/// </summary>
public static class LdmUNetNames
{
    private static readonly IReadOnlyDictionary<string, string> Resnet = new Dictionary<string, string>
    {
        ["in_layers.0"] = "norm1",
        ["in_layers.2"] = "conv1",
        ["emb_layers.1"] = "time_emb_proj",
        ["out_layers.0"] = "norm2",
        ["out_layers.3"] = "conv2",
        ["skip_connection"] = "conv_shortcut",
    };

    /// <summary>
    /// The LDM name (without <c>model.diffusion_model.</c>) of each diffusers UNet tensor name in
    /// <paramref name="diffusersNames"/> that has one, e.g. <c>down_blocks.0.attentions.0.proj_in.weight</c> →
    /// <c>input_blocks.1.1.proj_in.weight</c>. Give tensor names (with <c>.weight</c> or <c>.bias</c>): resnet
    /// sub-modules are renamed by the part before the parameter name.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ToLdm(UNetConfig config, IEnumerable<string> diffusersNames)
    {
        ArgumentNullException.ThrowIfNull(config);
        var names = Create(config).Inverse();
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in diffusersNames)
            if (names.Map(name) is { } ldm) result[name] = ldm;
        return result;
    }

    internal static ModuleRenamer Create(UNetConfig config)
    {
        int levels = config.Levels, layers = config.LayersPerBlock, stride = layers + 1;
        var names = new ModuleRenamer()
            .Add("time_embed.0", "time_embedding.linear_1")
            .Add("time_embed.2", "time_embedding.linear_2")
            .Add("input_blocks.0.0", "conv_in")
            .Add("middle_block.0", "mid_block.resnets.0", Resnet)
            .Add("middle_block.1", "mid_block.attentions.0")
            .Add("middle_block.2", "mid_block.resnets.1", Resnet)
            .Add("out.0", "conv_norm_out")
            .Add("out.2", "conv_out");
        for (int i = 0; i < levels; i++)
        {
            for (int j = 0; j < layers; j++)
            {
                int k = stride * i + j + 1;
                names.Add($"input_blocks.{k}.0", $"down_blocks.{i}.resnets.{j}", Resnet);
                if (config.DownBlockHasAttention(i)) names.Add($"input_blocks.{k}.1", $"down_blocks.{i}.attentions.{j}");
            }
            if (i < levels - 1) names.Add($"input_blocks.{stride * (i + 1)}.0.op", $"down_blocks.{i}.downsamplers.0.conv");

            bool upAttention = config.UpBlockHasAttention(i);
            for (int j = 0; j <= layers; j++)
            {
                int k = stride * i + j;
                names.Add($"output_blocks.{k}.0", $"up_blocks.{i}.resnets.{j}", Resnet);
                if (upAttention) names.Add($"output_blocks.{k}.1", $"up_blocks.{i}.attentions.{j}");
            }
            if (i < levels - 1) names.Add($"output_blocks.{stride * i + layers}.{(upAttention ? 2 : 1)}", $"up_blocks.{i}.upsamplers.0");
        }
        return names;
    }
}
