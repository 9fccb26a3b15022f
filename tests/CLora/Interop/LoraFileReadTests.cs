using IlgpuDiffusion.CLora.Interop;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;
using static IlgpuDiffusion.Tests.CLora.Interop.TinyModules;

namespace IlgpuDiffusion.Tests.CLora.Interop;

public sealed class LoraFileReadTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("idf-lora-read-");

    public void Dispose() => folder.Delete(recursive: true);

    private string Save(SafeTensorsWriter file, string name = "lora.safetensors")
    {
        var path = Path.Combine(folder.FullName, name);
        file.Save(path);
        return path;
    }

    private static LoraLayerDelta Layer(LoraFile lora, string module) => Assert.Single(lora.Layers, l => l.ModuleName == module);

    // ---- kohya ----

    [Fact]
    public void Kohya_names_resolve_against_the_real_modules_and_alpha_sets_the_scale()
    {
        var file = new SafeTensorsWriter()
            .AddKohya("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k", [4, 32], [32, 4], seed: 1)
            .Add("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.alpha", new float[] { 2 }, [])
            .AddKohya("lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_v", [4, 32], [64, 4], seed: 3)
            .AddKohya("lora_te_text_model_encoder_layers_0_self_attn_q_proj", [2, 32], [32, 2], seed: 5);
        var lora = LoraFile.Read(Save(file), Modules);

        Assert.Empty(lora.Unmatched);
        Assert.Equal(LoraDialect.Kohya, Assert.Single(lora.Dialects));
        Assert.Equal([ToK, MidToV, TextQ], lora.Layers.Select(l => l.ModuleName));
        var toK = Layer(lora, ToK);
        Assert.Equal(LoraComponent.UNet, toK.Component);
        Assert.Equal(4, toK.Rank);
        Assert.Equal(2f, toK.Alpha);
        Assert.Equal(0.5, toK.Scale);
        Assert.Equal(Random([4, 32], 1), toK.Down.ToArray());
        Assert.Equal(Random([32, 4], 2), toK.Up.ToArray());
        Assert.Equal([32, 32], toK.DeltaShape);
        var toV = Layer(lora, MidToV);
        Assert.Null(toV.Alpha);
        Assert.Equal(1.0, toV.Scale);
        Assert.Equal([64, 32], toV.DeltaShape);
        Assert.Equal(LoraComponent.TextEncoder, Layer(lora, TextQ).Component);
    }

    [Fact]
    public void Kohya_files_with_LDM_names_resolve_to_diffusers_modules_including_LoCon_convolutions()
    {
        var file = new SafeTensorsWriter()
            .AddKohya("lora_unet_input_blocks_1_1_transformer_blocks_0_attn2_to_k", [4, 32], [32, 4], seed: 1)
            .AddKohya("lora_unet_output_blocks_3_1_proj_in", [2, 64, 1, 1], [64, 2, 1, 1], seed: 3)
            .AddKohya("lora_unet_middle_block_0_in_layers_2", [2, 64, 3, 3], [64, 2, 1, 1], seed: 5)
            .AddKohya("lora_unet_output_blocks_2_1_conv", [2, 64, 3, 3], [64, 2, 1, 1], seed: 7);
        var lora = LoraFile.Read(Save(file), Modules);

        Assert.Empty(lora.Unmatched);
        Assert.Equal(["down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k", "mid_block.resnets.0.conv1",
            "up_blocks.0.upsamplers.0.conv", "up_blocks.1.attentions.0.proj_in"], lora.Layers.Select(l => l.ModuleName));
        Assert.Equal([64, 64, 3, 3], Layer(lora, "mid_block.resnets.0.conv1").DeltaShape);
        Assert.Equal([64, 64, 1, 1], Layer(lora, "up_blocks.1.attentions.0.proj_in").DeltaShape);
    }

    // ---- diffusers and PEFT ----

    [Theory]
    [InlineData("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora.down.weight", "lora.up.weight",
        LoraComponent.UNet, ToK, LoraDialect.Diffusers)]
    [InlineData("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora_linear_layer.down.weight", "lora_linear_layer.up.weight",
        LoraComponent.UNet, ToK, LoraDialect.Diffusers)]
    [InlineData("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.processor.to_k_lora.down.weight", "to_k_lora.up.weight",
        LoraComponent.UNet, ToK, LoraDialect.Diffusers)]
    [InlineData("down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_out_lora.down.weight", "to_out_lora.up.weight",
        LoraComponent.UNet, "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0", LoraDialect.Diffusers)]
    [InlineData("text_encoder.text_model.encoder.layers.1.self_attn.to_v_lora.down.weight", "to_v_lora.up.weight",
        LoraComponent.TextEncoder, "text_model.encoder.layers.1.self_attn.v_proj", LoraDialect.Diffusers)]
    [InlineData("text_encoder.text_model.encoder.layers.0.mlp.fc1.lora_linear_layer.down.weight", "lora_linear_layer.up.weight",
        LoraComponent.TextEncoder, "text_model.encoder.layers.0.mlp.fc1", LoraDialect.Diffusers)]
    [InlineData("base_model.model.mid_block.attentions.0.transformer_blocks.0.attn2.to_v.lora_A.weight", "lora_B.weight",
        LoraComponent.UNet, MidToV, LoraDialect.Peft)]
    [InlineData("unet.mid_block.attentions.0.transformer_blocks.0.attn2.to_v.lora_A.weight", "lora_B.weight",
        LoraComponent.UNet, MidToV, LoraDialect.Peft)]
    [InlineData("base_model.model.text_model.encoder.layers.2.self_attn.out_proj.lora_A.weight", "lora_B.weight",
        LoraComponent.TextEncoder, "text_model.encoder.layers.2.self_attn.out_proj", LoraDialect.Peft)]
    public void Diffusers_and_PEFT_names_resolve_to_the_module(string downKey, string upSuffix, LoraComponent component, string module, LoraDialect dialect)
    {
        var weight = Modules.WeightShape(component, module)!;
        var downSuffix = upSuffix.Replace("up", "down").Replace("lora_B", "lora_A");
        var upKey = downKey[..^downSuffix.Length] + upSuffix;
        var lora = LoraFile.Read(Save(new SafeTensorsWriter().AddPair(downKey, [3, weight[1]], upKey, [weight[0], 3], seed: 11)), Modules);

        Assert.Empty(lora.Unmatched);
        Assert.Equal(dialect, Assert.Single(lora.Dialects));
        var layer = Assert.Single(lora.Layers);
        Assert.Equal((component, module), (layer.Component, layer.ModuleName));
        Assert.Equal(Random([3, weight[1]], 11), layer.Down.ToArray());
        Assert.Equal(Random([weight[0], 3], 12), layer.Up.ToArray());
        Assert.Equal(1.0, layer.Scale);
    }

    [Theory]
    [InlineData("""{"r": 4, "lora_alpha": 8}""", 2.0)]
    [InlineData("""{"r": 4, "lora_alpha": 8, "use_rslora": true}""", 4.0)]
    [InlineData("""{"r": 4, "lora_alpha": 8, "alpha_pattern": {}}""", 2.0)]
    public void PEFT_adapter_config_beside_the_file_sets_the_scale(string config, double scale)
    {
        File.WriteAllText(Path.Combine(folder.FullName, "adapter_config.json"), config);
        var path = Save(new SafeTensorsWriter().AddPair($"base_model.model.{ToK}.lora_A.weight", [4, 32], $"base_model.model.{ToK}.lora_B.weight", [32, 4], seed: 1),
            "adapter_model.safetensors");
        Assert.Equal(scale, Assert.Single(LoraFile.Read(path, Modules).Layers).Scale, 6);
    }

    [Fact]
    public void PEFT_alpha_pattern_is_refused_naming_the_config()
    {
        var config = Path.Combine(folder.FullName, "adapter_config.json");
        File.WriteAllText(config, """{"r": 4, "lora_alpha": 8, "alpha_pattern": {"to_k": 16}}""");
        var path = Save(new SafeTensorsWriter().AddPair($"unet.{ToK}.lora_A.weight", [4, 32], $"unet.{ToK}.lora_B.weight", [32, 4], seed: 1));
        var error = Assert.Throws<InteropFileException>(() => LoraFile.Read(path, Modules));
        Assert.Equal(config, error.FilePath);
        Assert.Contains("alpha_pattern", error.Message);
    }

    // ---- what is not applied ----

    [Fact]
    public void Keys_that_match_nothing_are_listed_with_reasons_and_the_rest_is_applied()
    {
        var file = new SafeTensorsWriter()
            .AddKohya("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_v", [2, 32], [32, 2], seed: 1)
            .AddKohya("lora_unet_down_blocks_9_attentions_0_proj_in", [2, 32], [32, 2], seed: 3)
            .AddKohya("lora_te1_text_model_encoder_layers_0_self_attn_q_proj", [2, 32], [32, 2], seed: 5)
            .Add("some.random.tensor", Random([3], 7), [3])
            .AddKohya("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k", [2, 32], [32, 2], seed: 9)
            .Add("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_mid.weight", Random([2, 2, 1, 1], 11), [2, 2, 1, 1])
            .Add("lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_v.lora_down.weight", Random([2, 32], 13), [2, 32])
            .AddKohya("lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k", [2, 768], [64, 2], seed: 15)
            .Add($"unet.{ToK}.lora.down.weight.extra", Random([2], 17), [2]);
        var lora = LoraFile.Read(Save(file), Modules);

        Assert.Equal(["down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_v"], lora.Layers.Select(l => l.ModuleName));
        var reasons = lora.Unmatched.ToDictionary(u => u.Key, u => u.Reason);
        Assert.Equal(12, reasons.Count);
        Assert.Contains("no UNet module is named 'down_blocks_9_attentions_0_proj_in'", reasons["lora_unet_down_blocks_9_attentions_0_proj_in.lora_up.weight"]);
        Assert.Contains("SDXL", reasons["lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight"]);
        Assert.Contains("not a LoRA tensor name", reasons["some.random.tensor"]);
        Assert.Contains("not a LoRA tensor name", reasons[$"unet.{ToK}.lora.down.weight.extra"]);
        foreach (var suffix in new[] { "lora_down.weight", "lora_up.weight", "lora_mid.weight" })
            Assert.Contains("'lora_mid.weight' belongs to a LoRA extension", reasons[$"lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.{suffix}"]);
        Assert.Contains("no up factor", reasons["lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_v.lora_down.weight"]);
        Assert.Contains("ΔW [64, 768] does not fit the model's mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight [64, 32]",
            reasons["lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight"]);
        Assert.Equal(lora.Unmatched.Select(u => u.Key).Order(StringComparer.Ordinal), lora.Unmatched.Select(u => u.Key));
    }

    [Fact]
    public void Factors_whose_ranks_differ_are_an_error_naming_both_tensors()
    {
        var stem = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k";
        var path = Save(new SafeTensorsWriter().AddKohya(stem, [4, 32], [32, 3], seed: 1));
        var error = Assert.Throws<InteropFileException>(() => LoraFile.Read(path, Modules));
        Assert.Equal(path, error.FilePath);
        Assert.Contains($"'{stem}.lora_down.weight' and '{stem}.lora_up.weight'", error.Message);
        Assert.Contains("expected [out, 4]", error.Message);
    }

    [Fact]
    public void An_alpha_that_is_not_a_scalar_is_an_error()
    {
        var stem = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k";
        var path = Save(new SafeTensorsWriter().AddKohya(stem, [4, 32], [32, 4], seed: 1).Add($"{stem}.alpha", new float[] { 4, 4 }, [2]));
        Assert.Contains($"'{stem}.alpha' has 2 values; expected a scalar alpha", Assert.Throws<InteropFileException>(() => LoraFile.Read(path, Modules)).Message);
    }

    [Theory]
    [InlineData("style.pt")]
    [InlineData("pytorch_lora_weights.bin")]
    [InlineData("style.ckpt")]
    public void Pickle_files_are_refused_by_extension(string name)
    {
        var path = Path.Combine(folder.FullName, name);
        File.WriteAllBytes(path, [0x80, 0x02, 0x7d, 0x71]);
        var error = Assert.Throws<InteropFileException>(() => LoraFile.Read(path, Modules));
        Assert.Contains("pickle", error.Message);
        Assert.Contains("save_file", error.Message);
    }

    [Fact]
    public void A_pickle_renamed_to_safetensors_is_refused_as_a_pickle()
    {
        var path = Path.Combine(folder.FullName, "renamed.safetensors");
        File.WriteAllBytes(path, [0x80, 0x02, 0x7d, 0x71, 0, 0, 0, 0, 0, 0]);
        Assert.Contains("PyTorch pickle", Assert.Throws<InteropFileException>(() => LoraFile.Read(path, Modules)).Message);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var path = Path.Combine(folder.FullName, "absent.safetensors");
        Assert.Equal(path, Assert.Throws<InteropFileException>(() => LoraFile.Read(path, Modules)).FilePath);
    }

    [Fact]
    public void The_index_of_an_opened_single_file_checkpoint_resolves_LDM_and_diffusers_names()
    {
        using var checkpoint = CheckpointLoader.Open(
            new ModelSource(Fixtures.Path("tiny-sd-single.safetensors")) { ConfigFolder = Fixtures.Path("tiny-sd") }, Devices.Portable);
        var modules = LoraModuleIndex.From(checkpoint);
        Assert.Equal(Modules.Modules(LoraComponent.UNet), modules.Modules(LoraComponent.UNet));
        Assert.Equal(Modules.Modules(LoraComponent.TextEncoder), modules.Modules(LoraComponent.TextEncoder));
        var file = new SafeTensorsWriter()
            .AddKohya("lora_unet_output_blocks_11_1_transformer_blocks_0_attn2_to_v", [2, 32], [32, 2], seed: 1)
            .AddKohya("lora_unet_up_blocks_3_attentions_2_transformer_blocks_0_attn2_to_k", [2, 32], [32, 2], seed: 3);
        var lora = LoraFile.Read(Save(file), modules);
        Assert.Empty(lora.Unmatched);
        Assert.Equal(["up_blocks.3.attentions.2.transformer_blocks.0.attn2.to_k", "up_blocks.3.attentions.2.transformer_blocks.0.attn2.to_v"],
            lora.Layers.Select(l => l.ModuleName));
    }
}
