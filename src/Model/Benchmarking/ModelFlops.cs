using IlgpuDiffusion.Model.Configs;

namespace IlgpuDiffusion.Model.Benchmarking;

/// <summary>
/// Floating-point operations of one forward pass, counted analytically from a model's config: every convolution,
/// linear layer and attention matmul (Q·Kᵀ and softmax·V) at 2 FLOP per multiply-add. Norms, activations, softmax and
/// elementwise ops are left out, as in the usual GEMM-based counts. With this convention SD 1.5's UNet costs
/// 0.80 TFLOP per 64×64 latent (1.61 per classifier-free-guidance step, batch 2) and its VAE decoder 2.51 TFLOP per
/// 512² image. The walk mirrors diffusers' block structure, including odd latent sizes (a stride-2 conv gives ⌈n/2⌉,
/// an upsampler returns to its skip connection's size).
/// </summary>
public static class ModelFlops
{
    /// <summary>The UNet forward on <paramref name="batch"/> latents of <paramref name="latentHeight"/> × <paramref name="latentWidth"/>, conditioned on <paramref name="textTokens"/> tokens.</summary>
    public static double UNetForward(UNetConfig config, int batch, int latentHeight, int latentWidth, int textTokens = 77)
    {
        ArgumentNullException.ThrowIfNull(config);
        CheckSizes(batch, latentHeight, latentWidth);
        var widths = config.BlockOutChannels;
        int timeDim = config.TimeEmbeddingDim;
        double perSample = Linear(widths[0], timeDim, 1) + Linear(timeDim, timeDim, 1);
        double Resnet(int cin, int cout, int h, int w) =>
            Conv(cin, cout, 3, h * w) + Conv(cout, cout, 3, h * w) + (cin != cout ? Conv(cin, cout, 1, h * w) : 0) + Linear(timeDim, cout, 1);
        double Attention(int level, int channels, int h, int w) =>
            Transformer(channels, h * w, config.TransformerLayersPerBlock[level], config.OnlyCrossAttention[level], textTokens, config.CrossAttentionDim);

        int height = latentHeight, width = latentWidth, channels = widths[0];
        perSample += Conv(config.InChannels, channels, 3, height * width);
        var skips = new Stack<(int Channels, int Height, int Width)>();
        skips.Push((channels, height, width));
        for (int level = 0; level < config.Levels; level++)
        {
            for (int layer = 0; layer < config.LayersPerBlock; layer++)
            {
                perSample += Resnet(channels, widths[level], height, width);
                channels = widths[level];
                if (config.DownBlockHasAttention(level)) perSample += Attention(level, channels, height, width);
                skips.Push((channels, height, width));
            }
            if (level == config.Levels - 1) continue;
            (height, width) = ((height + 1) / 2, (width + 1) / 2);
            perSample += Conv(channels, channels, 3, height * width);
            skips.Push((channels, height, width));
        }

        int last = config.Levels - 1;
        perSample += 2 * Resnet(channels, channels, height, width) + Attention(last, channels, height, width);

        for (int block = 0; block < config.Levels; block++)
        {
            int level = last - block, output = widths[level];
            for (int layer = 0; layer <= config.LayersPerBlock; layer++)
            {
                var skip = skips.Pop();
                perSample += Resnet(channels + skip.Channels, output, height, width);
                channels = output;
                if (config.UpBlockHasAttention(block)) perSample += Attention(level, channels, height, width);
            }
            if (block == last) continue;
            (height, width) = (skips.Peek().Height, skips.Peek().Width);
            perSample += Conv(channels, channels, 3, height * width);
        }
        perSample += Conv(channels, config.OutChannels, 3, height * width);
        return batch * perSample;
    }

    /// <summary>The VAE decoder (post_quant_conv included) on <paramref name="batch"/> latents of <paramref name="latentHeight"/> × <paramref name="latentWidth"/>.</summary>
    public static double VaeDecode(VaeConfig config, int batch, int latentHeight, int latentWidth)
    {
        ArgumentNullException.ThrowIfNull(config);
        CheckSizes(batch, latentHeight, latentWidth);
        static double Resnet(int cin, int cout, int positions) =>
            Conv(cin, cout, 3, positions) + Conv(cout, cout, 3, positions) + (cin != cout ? Conv(cin, cout, 1, positions) : 0);

        var widths = config.BlockOutChannels.Reverse().ToArray();
        int positions = latentHeight * latentWidth, channels = widths[0];
        double perSample = Conv(config.LatentChannels, config.LatentChannels, 1, positions) + Conv(config.LatentChannels, channels, 3, positions);
        perSample += 2 * Resnet(channels, channels, positions) + 4 * Linear(channels, channels, positions) + 2 * AttentionMatmuls(positions, positions, channels);
        for (int block = 0; block < widths.Length; block++)
        {
            for (int layer = 0; layer <= config.LayersPerBlock; layer++)
            {
                perSample += Resnet(channels, widths[block], positions);
                channels = widths[block];
            }
            if (block == widths.Length - 1) continue;
            positions *= 4;
            perSample += Conv(channels, channels, 3, positions);
        }
        perSample += Conv(channels, config.OutChannels, 3, positions);
        return batch * perSample;
    }

    /// <summary>The CLIP text encoder on <paramref name="batch"/> sequences of <paramref name="tokens"/> ids (all layers).</summary>
    public static double TextEncoder(ClipTextConfig config, int batch, int tokens = 77)
    {
        ArgumentNullException.ThrowIfNull(config);
        CheckSizes(batch, tokens, 1);
        int c = config.HiddenSize;
        double layer = 4 * Linear(c, c, tokens) + 2 * AttentionMatmuls(tokens, tokens, c)
                       + Linear(c, config.IntermediateSize, tokens) + Linear(config.IntermediateSize, c, tokens);
        return batch * config.NumHiddenLayers * layer;
    }

    /// <summary>A Transformer2DModel: proj_in, <paramref name="layers"/> BasicTransformerBlocks (self- or cross-attention, cross-attention, GEGLU feed-forward), proj_out.</summary>
    private static double Transformer(int c, int tokens, int layers, bool onlyCross, int textTokens, int textWidth)
    {
        double Attention(int keys, int keyWidth) =>
            2 * Linear(c, c, tokens) + 2 * Linear(keyWidth, c, keys) + 2 * AttentionMatmuls(tokens, keys, c);
        double block = (onlyCross ? Attention(textTokens, textWidth) : Attention(tokens, c)) + Attention(textTokens, textWidth)
                       + Linear(c, 8 * c, tokens) + Linear(4 * c, c, tokens);
        return 2 * Linear(c, c, tokens) + layers * block;
    }

    /// <summary>One of Q·Kᵀ or P·V over all heads: queries × keys × width multiply-adds.</summary>
    private static double AttentionMatmuls(int queries, int keys, int width) => 2.0 * queries * keys * width;

    private static double Conv(int cin, int cout, int kernel, int positions) => 2.0 * cin * cout * kernel * kernel * positions;

    private static double Linear(int inFeatures, int outFeatures, int rows) => 2.0 * inFeatures * outFeatures * rows;

    private static void CheckSizes(int batch, int height, int width)
    {
        if (batch < 1 || height < 1 || width < 1)
            throw new ArgumentException($"batch {batch} and sizes {height}×{width} must all be at least 1.");
    }
}
