using System.Text.RegularExpressions;
using IlgpuDiffusion.Model.Benchmarking;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Model.Benchmarking;

/// <summary>
/// The analytic FLOP counter against the issue's SD 1.5 figures, and on the tiny fixture model against an independent
/// count: every rank ≥ 2 weight of the fixture's files × the positions its layer runs at (read off its diffusers name),
/// plus the attention matmuls, which uses the real tensor shapes instead of the config walk.
/// </summary>
public sealed partial class ModelFlopsTests
{
    private static readonly StableDiffusionConfig Sd15 = StableDiffusionConfig.StableDiffusion15;

    [Fact]
    public void Sd15_matches_the_issue_figures_within_three_percent()
    {
        AssertClose(0.80e12, ModelFlops.UNetForward(Sd15.UNet, 1, 64, 64), 0.03);
        AssertClose(1.61e12, ModelFlops.UNetForward(Sd15.UNet, 2, 64, 64), 0.03);
        AssertClose(2.51e12, ModelFlops.VaeDecode(Sd15.Vae, 1, 64, 64), 0.03);
    }

    [Theory]
    [InlineData(8, 8)]
    [InlineData(16, 8)]
    public void Tiny_unet_equals_a_count_over_the_fixture_weights(int height, int width)
    {
        var config = StableDiffusionConfig.FromFolder(Fixtures.Path("tiny-sd"));
        double expected = 3 * CountUNet(Fixtures.Path("tiny-sd", "unet", "diffusion_pytorch_model.safetensors"), height, width, config.UNet.Levels);
        AssertClose(expected, ModelFlops.UNetForward(config.UNet, 3, height, width), 1e-12);
    }

    [Fact]
    public void Tiny_vae_decoder_equals_a_count_over_the_fixture_weights()
    {
        var config = StableDiffusionConfig.FromFolder(Fixtures.Path("tiny-sd"));
        double expected = 2 * CountVaeDecoder(Fixtures.Path("tiny-sd", "vae", "diffusion_pytorch_model.safetensors"), 8 * 6);
        AssertClose(expected, ModelFlops.VaeDecode(config.Vae, 2, 8, 6), 1e-12);
    }

    [Fact]
    public void Tiny_text_encoder_equals_a_count_over_the_fixture_weights()
    {
        var config = StableDiffusionConfig.FromFolder(Fixtures.Path("tiny-sd"));
        double expected = 2 * CountTextEncoder(Fixtures.Path("tiny-sd", "text_encoder", "model.safetensors"));
        AssertClose(expected, ModelFlops.TextEncoder(config.TextEncoder, 2), 1e-12);
    }

    [Fact]
    public void Bad_sizes_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelFlops.UNetForward(Sd15.UNet, 0, 64, 64));
        Assert.Contains("batch 0", e.Message);
    }

    /// <summary>
    /// The UNet's FLOPs for one sample: the level of each layer comes from its name (down_blocks.i and its resnets at
    /// level i, its downsampler at i + 1; up_blocks.i at level L−1−i, its upsampler one level up; mid_block at L−1),
    /// time-embedding layers run once, the cross-attention K/V on 77 text tokens.
    /// </summary>
    private static double CountUNet(string file, int height, int width, int levels)
    {
        var sizes = new (int H, int W)[levels];
        sizes[0] = (height, width);
        for (int l = 1; l < levels; l++) sizes[l] = ((sizes[l - 1].H + 1) / 2, (sizes[l - 1].W + 1) / 2);
        int Positions(int level) => sizes[level].H * sizes[level].W;

        using var reader = SafeTensorsReader.Open(file);
        double total = 0;
        foreach (var t in reader.Tensors.Where(t => t.Shape.Count >= 2))
        {
            int level = Level(t.Name, levels);
            int positions = t.Name.StartsWith("time_embedding.", StringComparison.Ordinal) || t.Name.Contains("time_emb_proj") ? 1
                : Regex.IsMatch(t.Name, @"attn2\.to_[kv]\.") ? 77
                : Positions(level);
            total += 2.0 * t.ElementCount * positions;
            if (t.Name.EndsWith("attn1.to_q.weight", StringComparison.Ordinal)) total += 4.0 * Positions(level) * Positions(level) * t.Shape[0];
            if (t.Name.EndsWith("attn2.to_q.weight", StringComparison.Ordinal)) total += 4.0 * Positions(level) * 77 * t.Shape[0];
        }
        return total;
    }

    private static int Level(string name, int levels)
    {
        if (name.StartsWith("mid_block.", StringComparison.Ordinal)) return levels - 1;
        var down = DownBlock().Match(name);
        if (down.Success) return int.Parse(down.Groups[1].Value) + (name.Contains(".downsamplers.") ? 1 : 0);
        var up = UpBlock().Match(name);
        if (up.Success) return levels - 1 - int.Parse(up.Groups[1].Value) - (name.Contains(".upsamplers.") ? 1 : 0);
        return 0; // conv_in, conv_out
    }

    /// <summary>The decoder's FLOPs for one latent of <paramref name="latentPositions"/> positions; up_blocks.i runs at 4^i × that, its upsampler at 4^(i+1).</summary>
    private static double CountVaeDecoder(string file, int latentPositions)
    {
        using var reader = SafeTensorsReader.Open(file);
        int levels = reader.Tensors.Where(t => t.Name.StartsWith("decoder.up_blocks.", StringComparison.Ordinal))
            .Select(t => int.Parse(t.Name.Split('.')[2])).Max() + 1;
        double total = 0;
        foreach (var t in reader.Tensors.Where(t => t.Shape.Count >= 2 && (t.Name.StartsWith("decoder.", StringComparison.Ordinal) || t.Name.StartsWith("post_quant_conv.", StringComparison.Ordinal))))
        {
            int positions = latentPositions;
            var up = Regex.Match(t.Name, @"^decoder\.up_blocks\.(\d+)\.");
            if (up.Success) positions <<= 2 * (int.Parse(up.Groups[1].Value) + (t.Name.Contains(".upsamplers.") ? 1 : 0));
            if (t.Name.StartsWith("decoder.conv_out.", StringComparison.Ordinal)) positions <<= 2 * (levels - 1);
            total += 2.0 * t.ElementCount * positions;
            if (t.Name.EndsWith("attentions.0.to_q.weight", StringComparison.Ordinal)) total += 4.0 * positions * positions * t.Shape[0];
        }
        return total;
    }

    /// <summary>The encoder layers' FLOPs for one 77-token prompt (the embedding tables are gathers, not counted).</summary>
    private static double CountTextEncoder(string file)
    {
        using var reader = SafeTensorsReader.Open(file);
        double total = 0;
        foreach (var t in reader.Tensors.Where(t => t.Shape.Count >= 2 && t.Name.Contains(".encoder.layers.")))
        {
            total += 2.0 * t.ElementCount * 77;
            if (t.Name.EndsWith("q_proj.weight", StringComparison.Ordinal)) total += 4.0 * 77 * 77 * t.Shape[0];
        }
        return total;
    }

    private static void AssertClose(double expected, double actual, double relative) =>
        Assert.True(Math.Abs(actual - expected) <= relative * Math.Abs(expected), $"expected {expected:G6} ± {relative:P1}, got {actual:G6}");

    [GeneratedRegex(@"^down_blocks\.(\d+)\.")]
    private static partial Regex DownBlock();

    [GeneratedRegex(@"^up_blocks\.(\d+)\.")]
    private static partial Regex UpBlock();
}
