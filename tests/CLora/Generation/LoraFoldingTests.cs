using IlgpuDiffusion.CLora.Generation;
using IlgpuDiffusion.CLora.Interop;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;
using static IlgpuDiffusion.Tests.CLora.Interop.TinyModules;

namespace IlgpuDiffusion.Tests.CLora.Generation;

/// <summary>
/// <see cref="PipelineCustomization.AddLora(string, double)"/> on the tiny fixture model against a float64 host
/// W + weight · alpha / rank · up · down, for a linear layer, a 1×1 and a 3×3 LoCon convolution and a text-encoder
/// layer, in the kohya, diffusers and PEFT dialects, with F32 and F16 weights.
/// </summary>
public sealed class LoraFoldingTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>An adapted module: its factor shapes and its alpha (null: none in the file).</summary>
    private sealed record Target(LoraComponent Component, string Module, int[] DownShape, int[] UpShape, float? Alpha);

    private const double Weight = 0.7;

    private static readonly Target[] Targets =
    [
        new(LoraComponent.UNet, "mid_block.attentions.0.transformer_blocks.0.attn2.to_k", [2, 32], [64, 2], 1f),
        new(LoraComponent.UNet, "up_blocks.2.resnets.0.conv1", [2, 96, 3, 3], [32, 2, 1, 1], 4f),
        new(LoraComponent.UNet, "down_blocks.1.attentions.0.proj_in", [3, 32, 1, 1], [32, 3, 1, 1], null),
        new(LoraComponent.TextEncoder, "text_model.encoder.layers.0.mlp.fc1", [3, 32], [64, 3], 6f),
    ];

    /// <summary>PEFT has no per-layer alpha: adapter_config.json's lora_alpha applies to every layer.</summary>
    private const float PeftAlpha = 3f;

    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("idf-lora-fold-");

    public void Dispose() => folder.Delete(recursive: true);

    [Theory]
    [InlineData(LoraDialect.Kohya, DType.F32)]
    [InlineData(LoraDialect.Diffusers, DType.F32)]
    [InlineData(LoraDialect.Peft, DType.F32)]
    [InlineData(LoraDialect.Kohya, DType.F16)]
    public void Every_targeted_layer_becomes_W_plus_weight_times_scaled_up_down(LoraDialect dialect, DType weights)
    {
        var path = WriteLora(dialect);
        using var pipeline = TinyPipelines.Load(weights);
        using var custom = new PipelineCustomization(pipeline);

        var applied = custom.AddLora(path, Weight);

        Assert.Empty(applied.Unmatched);
        Assert.Equal(Targets.Select(t => (t.Component, t.Module)).Order(), applied.Layers.Select(l => (l.Component, l.ModuleName)).Order());
        for (int k = 0; k < Targets.Length; k++)
        {
            var t = Targets[k];
            var original = TinyPipelines.FixtureWeight(t.Component, t.Module);
            if (weights == DType.F16) original = [.. original.Select(v => (float)(Half)v)];
            float? alpha = dialect == LoraDialect.Peft ? PeftAlpha : t.Alpha;
            double scale = alpha is { } a ? a / t.DownShape[0] : 1.0;
            var delta = Product(Random(t.UpShape, Seed(k) + 1), Random(t.DownShape, Seed(k)), t.UpShape[0], t.DownShape[0], Weight * scale);
            var expected = original.Select((w, i) => w + delta[i]).ToArray();

            var actual = TinyPipelines.PipelineWeight(pipeline, t.Component, t.Module);

            double error = Reference.RelativeError(actual, expected), change = Reference.RelativeError(original, expected);
            output.WriteLine($"{dialect} {weights} {t.Module}: rel error {error:E2} (the delta changes W by {change:F2} relative)");
            Assert.True(change > 0.1, $"{t.Module}: the test delta is too small to see ({change})");
            Assert.True(error <= (weights == DType.F32 ? 1e-6 : 1e-3), $"{t.Module}: rel error {error:E2}");
        }
    }

    [Fact]
    public void Keys_that_match_nothing_are_listed_with_their_reason_and_the_rest_is_applied()
    {
        var path = Path.Combine(folder.FullName, "partial.safetensors");
        new SafeTensorsWriter()
            .AddKohya("lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k", [2, 32], [64, 2], seed: 1)
            .AddKohya("lora_unet_no_such_block_to_k", [2, 32], [32, 2], seed: 3)
            .AddKohya("lora_te1_text_model_encoder_layers_0_mlp_fc1", [2, 32], [64, 2], seed: 5)
            .AddKohya("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_v", [2, 48], [32, 2], seed: 7)
            .Save(path);
        using var pipeline = TinyPipelines.Load();
        using var custom = new PipelineCustomization(pipeline);

        var applied = custom.AddLora(path);

        Assert.Equal("mid_block.attentions.0.transformer_blocks.0.attn2.to_k", Assert.Single(applied.Layers).ModuleName);
        Assert.Equal([
            "lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", "lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_up.weight",
            "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_v.lora_down.weight",
            "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_v.lora_up.weight",
            "lora_unet_no_such_block_to_k.lora_down.weight", "lora_unet_no_such_block_to_k.lora_up.weight",
        ], applied.Unmatched.Select(u => u.Key));
        Assert.Contains("SDXL", applied.Unmatched[0].Reason);
        Assert.Contains("does not fit", applied.Unmatched[2].Reason);
        Assert.Contains("no UNet module", applied.Unmatched[4].Reason);
        var unchanged = "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_v";
        Assert.Equal(TinyPipelines.FixtureWeight(LoraComponent.UNet, unchanged), TinyPipelines.PipelineWeight(pipeline, LoraComponent.UNet, unchanged));
    }

    private static int Seed(int target) => 10 * (target + 1);

    /// <summary>Writes <see cref="Targets"/> with random factors in <paramref name="dialect"/>'s names (PEFT with its adapter_config.json).</summary>
    private string WriteLora(LoraDialect dialect)
    {
        var file = new SafeTensorsWriter();
        for (int k = 0; k < Targets.Length; k++)
        {
            var t = Targets[k];
            var (down, up, alpha) = Keys(dialect, t);
            file.AddPair(down, t.DownShape, up, t.UpShape, Seed(k));
            if (t.Alpha is { } value && alpha is not null) file.Add(alpha, new[] { value }, []);
        }
        var path = Path.Combine(folder.FullName, dialect == LoraDialect.Peft ? "adapter_model.safetensors" : $"{dialect}.safetensors");
        file.Save(path);
        if (dialect == LoraDialect.Peft)
            File.WriteAllText(Path.Combine(folder.FullName, "adapter_config.json"), $$"""{ "r": 2, "lora_alpha": {{PeftAlpha}} }""");
        return path;
    }

    /// <summary>The down, up and alpha keys of <paramref name="t"/> in <paramref name="dialect"/> (alpha null: the dialect has none).</summary>
    private static (string Down, string Up, string? Alpha) Keys(LoraDialect dialect, Target t)
    {
        string prefix = t.Component == LoraComponent.UNet ? "unet." : "text_encoder.";
        return dialect switch
        {
            LoraDialect.Kohya => Kohya(t.Component == LoraComponent.UNet ? "lora_unet_" : "lora_te_", t.Module.Replace('.', '_')),
            LoraDialect.Diffusers => ($"{prefix}{t.Module}.lora.down.weight", $"{prefix}{t.Module}.lora.up.weight", $"{prefix}{t.Module}.alpha"),
            LoraDialect.Peft => ($"base_model.model.{t.Module}.lora_A.weight", $"base_model.model.{t.Module}.lora_B.weight", null),
            _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, null),
        };

        static (string, string, string?) Kohya(string prefix, string flat) =>
            ($"{prefix}{flat}.lora_down.weight", $"{prefix}{flat}.lora_up.weight", $"{prefix}{flat}.alpha");
    }
}
