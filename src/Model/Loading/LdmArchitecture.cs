using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.SafeTensors;

namespace IlgpuDiffusion.Model.Loading;

/// <summary>
/// Infers an SD 1.x architecture from a single file's tensor names and shapes, for when no <c>--config</c> is given.
/// What the weights show is read from them: level count and layers per block (from the number of
/// <c>input_blocks</c> and downsamplers), widths, block types (which levels have attention), cross-attention width
/// (attn2.to_k's input), linear vs conv projections, transformer depth, the VAE's levels, layers and widths, the
/// text encoder's layers, widths, vocabulary and positions. What they cannot show comes from the SD 1.5 defaults:
/// 8 UNet heads per block, 32 norm groups, eps, activations, sample sizes, the VAE scaling factor, and text heads of
/// width 64 (hidden / 64 heads). Where those defaults do not fit the weights the inference is ambiguous and says so.
/// </summary>
internal static class LdmArchitecture
{
    /// <summary>The width of one CLIP attention head, from which the text encoder's head count is inferred.</summary>
    public const int ClipHeadWidth = 64;

    public static UNetConfig InferUNet(IReadOnlyDictionary<string, SafeTensorInfo> tensors, string path)
    {
        var keys = new Keys(tensors, path, "UNet", SingleFileLayout.UNetPrefix);
        int inputs = keys.Indices("input_blocks.").Count, outputs = keys.Indices("output_blocks.").Count;
        int levels = 1 + Enumerable.Range(0, inputs).Count(k => tensors.ContainsKey($"input_blocks.{k}.0.op.weight"));
        int stride = inputs / levels;
        if (inputs % levels != 0 || stride < 2 || outputs != inputs)
            throw keys.Ambiguous($"{inputs} input blocks, {outputs} output blocks and {levels} levels do not form an SD 1.x UNet");
        int layers = stride - 1;
        var widths = new int[levels];
        var downTypes = new string[levels];
        var upTypes = new string[levels];
        var depths = new int[levels];
        for (int i = 0; i < levels; i++)
        {
            var firstLayer = $"input_blocks.{stride * i + 1}";
            widths[i] = keys.Shape($"{firstLayer}.0.out_layers.3.weight")[0];
            bool attention = tensors.ContainsKey($"{firstLayer}.1.proj_in.weight");
            downTypes[i] = attention ? UNetConfig.CrossAttnDownBlock : UNetConfig.DownBlock;
            depths[i] = attention ? keys.Indices($"{firstLayer}.1.transformer_blocks.").Count : 1;
            upTypes[i] = tensors.ContainsKey($"output_blocks.{stride * i}.1.proj_in.weight") ? UNetConfig.CrossAttnUpBlock : UNetConfig.UpBlock;
        }
        var config = UNetConfig.StableDiffusion15 with
        {
            InChannels = keys.Shape("input_blocks.0.0.weight")[1],
            OutChannels = keys.Shape("out.2.weight")[0],
            BlockOutChannels = widths,
            DownBlockTypes = downTypes,
            UpBlockTypes = upTypes,
            LayersPerBlock = layers,
            AttentionHeads = [.. Enumerable.Repeat(UNetConfig.StableDiffusion15.AttentionHeads[0], levels)],
            TransformerLayersPerBlock = depths,
            OnlyCrossAttention = new bool[levels],
            CrossAttentionDim = keys.Shape("middle_block.1.transformer_blocks.0.attn2.to_k.weight")[1],
            UseLinearProjection = keys.Shape("middle_block.1.proj_in.weight").Count == 2,
        };
        config.Validate(keys.Source);
        return config;
    }

    public static VaeConfig InferVae(IReadOnlyDictionary<string, SafeTensorInfo> tensors, string path)
    {
        var keys = new Keys(tensors, path, "VAE", SingleFileLayout.VaePrefix);
        int levels = keys.Indices("encoder.down.").Count;
        var config = VaeConfig.StableDiffusion15 with
        {
            InChannels = keys.Shape("encoder.conv_in.weight")[1],
            OutChannels = keys.Shape("decoder.conv_out.weight")[0],
            LatentChannels = keys.Shape("decoder.conv_in.weight")[1],
            BlockOutChannels = [.. Enumerable.Range(0, levels).Select(i => keys.Shape($"encoder.down.{i}.block.0.conv1.weight")[0])],
            LayersPerBlock = keys.Indices("encoder.down.0.block.").Count,
        };
        config.Validate(keys.Source);
        return config;
    }

    /// <summary>Infers the text encoder from its tensors under their transformers names (<c>text_model.*</c>).</summary>
    public static ClipTextConfig InferTextEncoder(IReadOnlyDictionary<string, SafeTensorInfo> tensors, string path)
    {
        var keys = new Keys(tensors, path, "text encoder", SingleFileLayout.TextEncoderPrefix);
        var tokens = keys.Shape("text_model.embeddings.token_embedding.weight");
        int hidden = tokens[1];
        if (hidden % ClipHeadWidth != 0)
            throw keys.Ambiguous($"its attention heads cannot be inferred: the hidden size {hidden} is not a multiple of CLIP's " +
                                 $"head width {ClipHeadWidth}, and head counts are not visible in the weights");
        var config = ClipTextConfig.VitL14 with
        {
            VocabSize = tokens[0],
            HiddenSize = hidden,
            NumHiddenLayers = keys.Indices("text_model.encoder.layers.").Count,
            NumAttentionHeads = hidden / ClipHeadWidth,
            IntermediateSize = keys.Shape("text_model.encoder.layers.0.mlp.fc1.weight")[0],
            MaxPositionEmbeddings = keys.Shape("text_model.embeddings.position_embedding.weight")[0],
            ProjectionDim = null,
        };
        config.Validate(keys.Source);
        return config;
    }

    /// <summary>Name lookups over one component's tensors, with errors that say what to do.</summary>
    private sealed class Keys(IReadOnlyDictionary<string, SafeTensorInfo> tensors, string path, string component, string prefix)
    {
        /// <summary>Where an inferred config comes from, as <see cref="ConfigException"/>s name it.</summary>
        public string Source => $"{component} architecture inferred from '{path}' (give --config DIR to set it)";

        public IReadOnlyList<int> Shape(string name) => tensors.TryGetValue(name, out var info)
            ? info.Shape
            : throw Ambiguous($"tensor '{prefix}{name}' is missing, so this does not look like an SD 1.x checkpoint");

        /// <summary>The distinct numbers that follow <paramref name="stem"/> in the names (e.g. layer indices).</summary>
        public IReadOnlyList<int> Indices(string stem) => [.. tensors.Keys
            .Where(name => name.StartsWith(stem, StringComparison.Ordinal))
            .Select(name => int.TryParse(name[stem.Length..].Split('.')[0], out var index) ? index : -1)
            .Where(index => index >= 0)
            .Distinct()
            .Order()];

        public CheckpointException Ambiguous(string problem) => new(path,
            $"cannot infer the {component} architecture: {problem}. Give --config DIR, a folder with " +
            "unet/, vae/ and text_encoder/config.json (e.g. the diffusers version of this model).");
    }
}
