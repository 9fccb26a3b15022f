using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Model;

public sealed class LoaderTests : IDisposable
{
    private const int SingleFileTensors = 917;

    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("idf-loaders-");

    public void Dispose() => folder.Delete(recursive: true);

    private static string TinyFolder => Fixtures.Path("tiny-sd");

    private static string TinySingle => Fixtures.Path("tiny-sd-single.safetensors");

    private static Checkpoint Open(string path, string? config = null, DType weights = DType.F32, string? tokenizer = null) =>
        CheckpointLoader.Open(new ModelSource(path) { ConfigFolder = config, TokenizerFolder = tokenizer, Weights = weights }, Devices.Portable);

    private static IEnumerable<WeightSet> Components(Checkpoint c) => [c.UNet, c.Vae, c.TextEncoder];

    // ---- the fixture in both layouts ----

    [Fact]
    public void Single_file_maps_every_tensor_onto_the_diffusers_folder_bit_for_bit()
    {
        using var folderCheckpoint = Open(TinyFolder);
        using var single = Open(TinySingle, config: TinyFolder);
        Assert.Equal(CheckpointLayout.DiffusersFolder, folderCheckpoint.Layout);
        Assert.Equal(CheckpointLayout.SingleFile, single.Layout);
        Assert.Equal(SingleFileTensors, Components(single).Sum(w => w.Names.Count));
        Assert.Empty(single.Ignored);
        Assert.Empty(single.Unrecognized);
        foreach (var (expected, actual) in Components(folderCheckpoint).Zip(Components(single)))
        {
            Assert.Equal(expected.Names, actual.Names);
            foreach (var name in expected.Names)
            {
                Assert.Equal(expected.ShapeOf(name), actual.ShapeOf(name));
                Assert.True(Bits(expected, name).SequenceEqual(Bits(actual, name)), $"{expected.Component} '{name}' differs");
            }
        }
        foreach (var weights in Components(single))
            foreach (var name in weights.Names)
                weights.Take(name, [.. weights.ShapeOf(name)]).Dispose();
        single.Complete(); // none missing, none unexpected, no shape differs
    }

    [Fact]
    public void Vae_mid_attention_is_squeezed_from_1x1_convs_to_linears()
    {
        using var single = Open(TinySingle, config: TinyFolder);
        foreach (var linear in new[] { "to_q", "to_k", "to_v", "to_out.0" })
        {
            var name = $"decoder.mid_block.attentions.0.{linear}.weight";
            Assert.Equal([64, 64], single.Vae.ShapeOf(name));
            Assert.Contains("[64, 64, 1, 1]", single.Vae.SourceOf(name));
        }
        Assert.Contains("first_stage_model.encoder.mid.attn_1.norm.weight", single.Vae.SourceOf("encoder.mid_block.attentions.0.group_norm.weight"));
        Assert.Contains("model.diffusion_model.output_blocks.5.2.conv.weight", single.UNet.SourceOf("up_blocks.1.upsamplers.0.conv.weight"));
        Assert.Contains("first_stage_model.decoder.up.3.block.1.conv1.weight", single.Vae.SourceOf("decoder.up_blocks.0.resnets.1.conv1.weight"));
    }

    [Fact]
    public void Configs_and_tokenizer_come_from_the_folder_or_the_config_folder()
    {
        using var folderCheckpoint = Open(TinyFolder);
        using var single = Open(TinySingle, config: TinyFolder);
        foreach (var c in new[] { folderCheckpoint, single })
        {
            Assert.Equal([32, 32, 64, 64], c.Config.UNet.BlockOutChannels);
            Assert.Equal(4, c.Config.TextEncoder.NumAttentionHeads);
            Assert.Equal(Path.GetFullPath(Fixtures.Path("tiny-sd", "scheduler", "scheduler_config.json")), c.Config.SchedulerConfigPath);
            Assert.Equal(Path.GetFullPath(Fixtures.Path("tiny-sd", "tokenizer")), c.TokenizerFolder);
            Assert.Equal(49408, c.LoadTokenizer().VocabularySize);
        }
    }

    // ---- architecture inference ----

    [Fact]
    public void Inference_from_the_single_file_reproduces_the_fixture_unet_and_vae_configs()
    {
        using var reader = SafeTensorsReader.Open(TinySingle);
        var layout = SingleFileLayout.Of(reader);
        var expected = StableDiffusionConfig.FromFolder(TinyFolder);

        var unet = LdmArchitecture.InferUNet(layout.UNet, TinySingle);
        Assert.Equal(expected.UNet.BlockOutChannels, unet.BlockOutChannels);
        Assert.Equal(expected.UNet.LayersPerBlock, unet.LayersPerBlock);
        Assert.Equal(expected.UNet.CrossAttentionDim, unet.CrossAttentionDim);
        Assert.Equal(expected.UNet.DownBlockTypes, unet.DownBlockTypes);
        Assert.Equal(expected.UNet.UpBlockTypes, unet.UpBlockTypes);
        Assert.Equal(expected.UNet.AttentionHeads, unet.AttentionHeads);
        Assert.Equal(expected.UNet.TransformerLayersPerBlock, unet.TransformerLayersPerBlock);
        Assert.Equal((expected.UNet.InChannels, expected.UNet.OutChannels, expected.UNet.UseLinearProjection, expected.UNet.NormNumGroups),
            (unet.InChannels, unet.OutChannels, unet.UseLinearProjection, unet.NormNumGroups));

        var vae = LdmArchitecture.InferVae(layout.Vae, TinySingle);
        Assert.Equal(expected.Vae.BlockOutChannels, vae.BlockOutChannels);
        Assert.Equal((expected.Vae.LayersPerBlock, expected.Vae.LatentChannels, expected.Vae.InChannels, expected.Vae.OutChannels),
            (vae.LayersPerBlock, vae.LatentChannels, vae.InChannels, vae.OutChannels));
    }

    [Fact]
    public void Text_heads_are_ambiguous_for_the_fixture_and_the_error_asks_for_config()
    {
        var e = Assert.Throws<CheckpointException>(() => Open(TinySingle));
        Assert.Contains("text encoder", e.Message);
        Assert.Contains("heads", e.Message);
        Assert.Contains("hidden size 32", e.Message);
        Assert.Contains("--config", e.Message);
    }

    [Fact]
    public void Text_encoder_is_inferred_with_64_wide_heads()
    {
        var path = Path.Combine(folder.FullName, "text.safetensors");
        var writer = new SafeTensorsWriter()
            .Add("text_model.embeddings.token_embedding.weight", Reference.RandomNormal(10 * 128, 1), [10, 128])
            .Add("text_model.embeddings.position_embedding.weight", Reference.RandomNormal(7 * 128, 2), [7, 128]);
        for (int layer = 0; layer < 3; layer++)
            writer.Add($"text_model.encoder.layers.{layer}.mlp.fc1.weight", Reference.RandomNormal(256 * 128, 3), [256, 128]);
        writer.Save(path);
        using var reader = SafeTensorsReader.Open(path);
        var c = LdmArchitecture.InferTextEncoder(reader.Tensors.ToDictionary(t => t.Name), path);
        Assert.Equal((10, 128, 2, 3, 256, 7, "quick_gelu"),
            (c.VocabSize, c.HiddenSize, c.NumAttentionHeads, c.NumHiddenLayers, c.IntermediateSize, c.MaxPositionEmbeddings, c.HiddenAct));
    }

    [Fact]
    public void Unet_and_vae_mappings_follow_the_inferred_config_without_a_config_folder()
    {
        // A text config alone resolves the ambiguity; the UNet and VAE are inferred and mapped from their keys.
        var config = Directory.CreateDirectory(Path.Combine(folder.FullName, "text-only", "text_encoder")).Parent!.FullName;
        File.Copy(Fixtures.Path("tiny-sd", "text_encoder", "config.json"), Path.Combine(config, "text_encoder", "config.json"));
        using var reference = Open(TinyFolder);
        using var single = Open(TinySingle, config: config);
        Assert.Equal(reference.UNet.Names, single.UNet.Names);
        Assert.Equal(reference.Vae.Names, single.Vae.Names);
        Assert.Equal(64, single.Config.UNet.SampleSize); // not visible in the weights: SD 1.5's default
        Assert.Null(single.Config.SchedulerConfigPath);
    }

    [Fact]
    public void Mappings_follow_the_configs_levels_and_layers_per_block()
    {
        var unet = LdmUNetNames.Create(UNetConfig.StableDiffusion15 with
        {
            BlockOutChannels = [32, 64, 64],
            DownBlockTypes = [UNetConfig.CrossAttnDownBlock, UNetConfig.CrossAttnDownBlock, UNetConfig.DownBlock],
            UpBlockTypes = [UNetConfig.UpBlock, UNetConfig.CrossAttnUpBlock, UNetConfig.CrossAttnUpBlock],
            LayersPerBlock = 1,
        });
        Assert.Equal("down_blocks.0.resnets.0.norm1.weight", unet.Map("input_blocks.1.0.in_layers.0.weight"));
        Assert.Equal("down_blocks.0.downsamplers.0.conv.bias", unet.Map("input_blocks.2.0.op.bias"));
        Assert.Equal("down_blocks.1.attentions.0.proj_in.weight", unet.Map("input_blocks.3.1.proj_in.weight"));
        Assert.Equal("down_blocks.2.resnets.0.conv_shortcut.weight", unet.Map("input_blocks.5.0.skip_connection.weight"));
        Assert.Equal("up_blocks.0.upsamplers.0.conv.weight", unet.Map("output_blocks.1.1.conv.weight"));
        Assert.Equal("up_blocks.1.resnets.0.time_emb_proj.weight", unet.Map("output_blocks.2.0.emb_layers.1.weight"));
        Assert.Equal("up_blocks.1.upsamplers.0.conv.weight", unet.Map("output_blocks.3.2.conv.weight"));
        Assert.Equal("up_blocks.2.attentions.1.transformer_blocks.0.attn2.to_k.weight", unet.Map("output_blocks.5.1.transformer_blocks.0.attn2.to_k.weight"));
        Assert.Null(unet.Map("input_blocks.6.0.in_layers.0.weight"));

        var vae = VaeNames.FromLdm(VaeConfig.StableDiffusion15 with { BlockOutChannels = [32, 64], LayersPerBlock = 3 });
        Assert.Equal("encoder.down_blocks.0.resnets.2.conv2.weight", vae.Map("encoder.down.0.block.2.conv2.weight"));
        Assert.Equal("decoder.up_blocks.0.resnets.3.conv_shortcut.weight", vae.Map("decoder.up.1.block.3.nin_shortcut.weight"));
        Assert.Equal("decoder.up_blocks.0.upsamplers.0.conv.weight", vae.Map("decoder.up.1.upsample.conv.weight"));
        Assert.Null(vae.Map("decoder.up.0.upsample.conv.weight"));
    }

    // ---- variants of the single file ----

    [Fact]
    public void Old_text_encoder_names_without_text_model_are_mapped()
    {
        var path = Variant("old-text.safetensors", info => info.Name.Replace("cond_stage_model.transformer.text_model.", "cond_stage_model.transformer."));
        using var reference = Open(TinyFolder);
        using var single = Open(path, config: TinyFolder);
        Assert.Equal(reference.TextEncoder.Names, single.TextEncoder.Names);
        Assert.Contains("'cond_stage_model.transformer.encoder.layers.2.mlp.fc2.weight'", single.TextEncoder.SourceOf("text_model.encoder.layers.2.mlp.fc2.weight"));
        Assert.Equal(reference.TextEncoder.ReadF32("text_model.final_layer_norm.weight"), single.TextEncoder.ReadF32("text_model.final_layer_norm.weight"));
    }

    [Theory]
    [InlineData("query", "key", "value", "proj_attn", false)]
    [InlineData("to_q", "to_k", "to_v", "to_out.0", true)]
    public void Other_vae_attention_dialects_are_mapped(string q, string k, string v, string output, bool linearShape)
    {
        var renames = new Dictionary<string, string> { [".q."] = $".{q}.", [".k."] = $".{k}.", [".v."] = $".{v}.", [".proj_out."] = $".{output}." };
        var path = Variant($"vae-{q}.safetensors", info =>
        {
            if (!info.Name.Contains(".mid.attn_1.")) return info.Name;
            return renames.Aggregate(info.Name, (name, r) => name.Replace(r.Key, r.Value));
        }, reshape: linearShape ? shape => shape is [var a, var b, 1, 1] ? [a, b] : shape : null);
        using var reference = Open(TinyFolder);
        using var single = Open(path, config: TinyFolder);
        Assert.Equal(reference.Vae.Names, single.Vae.Names);
        foreach (var name in reference.Vae.Names.Where(n => n.Contains("attentions")))
        {
            Assert.Equal(reference.Vae.ShapeOf(name), single.Vae.ShapeOf(name));
            Assert.Equal(reference.Vae.ReadF32(name), single.Vae.ReadF32(name));
        }
    }

    [Fact]
    public void Ema_and_noise_schedule_extras_are_ignored()
    {
        string[] extras = ["model_ema.decay", "model_ema.num_updates", "model_ema.diffusion_modelout2weight", "alphas_cumprod", "betas", "logvar"];
        var path = Variant("extras.safetensors", info => info.Name, extra: writer =>
        {
            foreach (var name in extras) writer.Add(name, Reference.RandomNormal(5, name.Length), [5]);
        });
        using var single = Open(path, config: TinyFolder);
        Assert.Equal(extras.Order(StringComparer.Ordinal), single.Ignored);
        Assert.Empty(single.Unrecognized);
        Assert.Equal(SingleFileTensors, Components(single).Sum(w => w.Names.Count));
    }

    [Theory]
    [InlineData(SafeTensorsDType.F16)]
    [InlineData(SafeTensorsDType.BF16)]
    public void Half_precision_files_load_as_the_rounded_f32_values(SafeTensorsDType dtype)
    {
        var path = Variant($"{dtype}.safetensors", info => info.Name, dtype);
        using var reference = Open(TinySingle, config: TinyFolder);
        using var single = Open(path, config: TinyFolder);
        foreach (var (expected, actual) in Components(reference).Zip(Components(single)))
            foreach (var name in expected.Names.Where(n => expected.DeviceDTypeOf(n) != DType.I32))
            {
                var rounded = expected.ReadF32(name).Select(x => dtype == SafeTensorsDType.F16
                    ? (float)(Half)x
                    : SafeTensorsDecode.BF16ToSingle(SafeTensorsEncode.SingleToBF16(x))).ToArray();
                Assert.True(rounded.SequenceEqual(actual.ReadF32(name)), $"{name} is not the {dtype}-rounded F32 value");
            }
        using var weight = single.UNet.Take("conv_in.weight", [32, 4, 3, 3]);
        Assert.Equal(DType.F32, weight.DType);
    }

    [Fact]
    public void Missing_unexpected_and_unrecognized_tensors_are_reported_by_name()
    {
        var path = Variant("mismatch.safetensors", info => info.Name == "model.diffusion_model.out.2.bias" ? null : info.Name, extra: writer => writer
            .Add("model.diffusion_model.label_emb.0.0.weight", Reference.RandomNormal(6, 1), [2, 3])
            .Add("control_model.zero_convs.0.0.weight", Reference.RandomNormal(4, 2), [4]));
        using var reference = Open(TinyFolder);
        using var single = Open(path, config: TinyFolder);
        foreach (var (expected, actual) in Components(reference).Zip(Components(single)))
            foreach (var name in expected.Names)
                actual.Take(name, [.. expected.ShapeOf(name)]).Dispose();

        var unet = single.UNet.Report();
        Assert.Equal(["conv_out.bias"], unet.Missing);
        Assert.Equal(["model.diffusion_model.label_emb.0.0.weight"], unet.Unexpected);
        Assert.Empty(unet.WrongShapes);
        Assert.True(single.Vae.Report().IsClean && single.TextEncoder.Report().IsClean);
        Assert.Equal(["control_model.zero_convs.0.0.weight"], single.Unrecognized);

        var e = Assert.Throws<WeightsMismatchException>(() => single.Complete());
        Assert.Contains("'conv_out.bias'", e.Message);
        Assert.Contains("'model.diffusion_model.label_emb.0.0.weight'", e.Message);
        Assert.Contains("'control_model.zero_convs.0.0.weight'", e.Message);
        Assert.Equal(["unet", "checkpoint"], e.Reports.Select(r => r.Component));
        Assert.Throws<WeightsMismatchException>(() => single.UNet.Complete(allowUnexpected: true)); // a missing tensor is never allowed
        single.Vae.Complete();
    }

    [Fact]
    public void Wrong_shape_names_the_tensor_and_both_shapes_and_nothing_crashes()
    {
        using var checkpoint = Open(TinyFolder);
        using var zeros = checkpoint.UNet.Take("conv_in.weight", [32, 4, 3, 1]);
        Assert.Equal(new Shape(32, 4, 3, 1), zeros.Shape);
        Assert.All(zeros.ToFloatArray(), x => Assert.Equal(0f, x));
        var mismatch = Assert.Single(checkpoint.UNet.Report().WrongShapes);
        Assert.Equal("conv_in.weight", mismatch.Name);
        Assert.Equal([32, 4, 3, 3], mismatch.FileShape);
        Assert.Equal([32, 4, 3, 1], mismatch.ExpectedShape);
        var e = Assert.Throws<WeightsMismatchException>(() => checkpoint.UNet.Complete(allowUnexpected: true));
        Assert.Contains("'conv_in.weight' is [32, 4, 3, 3] in the file", e.Message);
        Assert.Contains("the model expects [32, 4, 3, 1]", e.Message);
    }

    [Fact]
    public void Skipped_and_optional_tensors_are_not_reported()
    {
        using var checkpoint = Open(TinyFolder);
        var text = checkpoint.TextEncoder;
        foreach (var name in text.Names.Where(n => n != "text_model.embeddings.position_ids"))
            text.Take(name, [.. text.ShapeOf(name)]).Dispose();
        Assert.Equal(["text_model.embeddings.position_ids"], text.Report().Unexpected);
        text.Skip("text_model.embeddings.position_ids");
        Assert.Null(text.TryTake("text_model.text_projection.weight", [32, 32]));
        text.Complete();
    }

    // ---- precision ----

    [Fact]
    public void F16_weights_put_matrices_in_f16_and_keep_biases_norms_and_ids_in_f32_and_i32()
    {
        using var reference = Open(TinyFolder);
        using var checkpoint = Open(TinyFolder, weights: ModelSource.ParseWeights("f16"));
        using var conv = checkpoint.UNet.Take("conv_in.weight", [32, 4, 3, 3]);
        using var linear = checkpoint.UNet.Take("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight", [32, 32]);
        using var table = checkpoint.TextEncoder.Take("text_model.embeddings.token_embedding.weight", [49408, 32]);
        using var bias = checkpoint.UNet.Take("conv_in.bias", [32]);
        using var norm = checkpoint.Vae.Take("encoder.conv_norm_out.weight", [64]);
        using var ids = checkpoint.TextEncoder.Take("text_model.embeddings.position_ids", [1, 77]);
        using var forced = checkpoint.UNet.Take("conv_out.weight", [4, 32, 3, 3], DType.F32);
        Assert.Equal([DType.F16, DType.F16, DType.F16, DType.F32, DType.F32, DType.I32, DType.F32],
            new[] { conv, linear, table, bias, norm, ids, forced }.Select(t => t.DType));
        Assert.Equal(reference.UNet.ReadF32("conv_in.weight").Select(x => (Half)x), conv.ToHalfArray());
        Assert.Equal(reference.UNet.ReadF32("conv_in.bias"), bias.ToFloatArray());
        Assert.Equal(Enumerable.Range(0, 77), ids.ToIntArray());
    }

    [Theory]
    [InlineData("f32", DType.F32)]
    [InlineData("F16", DType.F16)]
    public void Weights_option_parses(string text, DType expected) => Assert.Equal(expected, ModelSource.ParseWeights(text));

    [Fact]
    public void Weights_option_refuses_other_dtypes() =>
        Assert.Contains("f32 or f16", Assert.Throws<ArgumentException>(() => ModelSource.ParseWeights("bf16")).Message);

    // ---- refusals and errors ----

    [Theory]
    [InlineData("model.ckpt")]
    [InlineData("model.pt")]
    [InlineData("model.pth")]
    [InlineData("pytorch_model.bin")]
    public void Pickle_files_are_refused_with_how_to_convert(string name)
    {
        var path = Path.Combine(folder.FullName, name);
        File.WriteAllBytes(path, [0x80, 0x02, (byte)'}', (byte)'q']);
        AssertPickleRefusal(path, Assert.Throws<CheckpointException>(() => Open(path)));
    }

    [Fact]
    public void Pickle_content_is_refused_whatever_the_extension()
    {
        var path = Path.Combine(folder.FullName, "renamed.safetensors");
        File.WriteAllBytes(path, [(byte)'P', (byte)'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
        AssertPickleRefusal(path, Assert.Throws<CheckpointException>(() => Open(path)));
    }

    [Fact]
    public void Diffusers_folder_with_only_bin_weights_is_refused()
    {
        var model = CopyOfTinyFolder("bin-folder");
        var unet = Path.Combine(model, "unet");
        File.Delete(Path.Combine(unet, "diffusion_pytorch_model.safetensors"));
        File.WriteAllBytes(Path.Combine(unet, "diffusion_pytorch_model.bin"), [0x80, 0x02]);
        AssertPickleRefusal(Path.Combine(unet, "diffusion_pytorch_model.bin"), Assert.Throws<CheckpointException>(() => Open(model)));
    }

    [Fact]
    public void Fp16_variant_of_a_diffusers_folder_is_found()
    {
        var model = CopyOfTinyFolder("fp16-folder");
        var vae = Path.Combine(model, "vae");
        File.Move(Path.Combine(vae, "diffusion_pytorch_model.safetensors"), Path.Combine(vae, "diffusion_pytorch_model.fp16.safetensors"));
        using var checkpoint = Open(model);
        Assert.Contains(Path.Combine(vae, "diffusion_pytorch_model.fp16.safetensors"), checkpoint.Files);
        Assert.Equal(180, checkpoint.Vae.Names.Count);
    }

    [Fact]
    public void Single_file_without_a_tokenizer_says_how_to_give_one()
    {
        var config = CopyOfTinyFolder("no-tokenizer", withTokenizer: false);
        using (var single = Open(TinySingle, config: config))
        {
            Assert.Null(single.TokenizerFolder);
            var e = Assert.Throws<CheckpointException>(() => single.LoadTokenizer());
            Assert.Contains("single-file checkpoint holds no tokenizer", e.Message);
            Assert.Contains("--tokenizer DIR", e.Message);
        }
        using var withTokenizer = Open(TinySingle, config: config, tokenizer: Fixtures.Path("tokenizer"));
        Assert.Equal(49408, withTokenizer.LoadTokenizer().VocabularySize);
    }

    [Fact]
    public void Absent_paths_and_plain_folders_are_clear_errors()
    {
        Assert.Contains("no such file or folder", Assert.Throws<CheckpointException>(() => Open(Path.Combine(folder.FullName, "nothing.safetensors"))).Message);
        Assert.Contains("not a diffusers model", Assert.Throws<CheckpointException>(() => Open(folder.FullName)).Message);
        Assert.Contains("--config folder does not exist",
            Assert.Throws<CheckpointException>(() => Open(TinySingle, config: Path.Combine(folder.FullName, "nowhere"))).Message);
    }

    private static void AssertPickleRefusal(string path, CheckpointException e)
    {
        Assert.Equal(path, e.FilePath);
        Assert.Contains("pickle", e.Message);
        Assert.Contains("arbitrary code", e.Message);
        Assert.Contains("safetensors", e.Message);
        Assert.Contains("save_file", e.Message);
    }

    /// <summary>The raw bits of a tensor (floats as F32 bit patterns, integers as they are).</summary>
    private static int[] Bits(WeightSet weights, string name)
    {
        if (weights.DeviceDTypeOf(name) != DType.I32) return [.. weights.ReadF32(name).Select(BitConverter.SingleToInt32Bits)];
        using var ids = weights.Take(name, [.. weights.ShapeOf(name)]);
        return ids.ToIntArray();
    }

    /// <summary>
    /// A copy of the fixture's single file with tensors renamed (null drops one), optionally reshaped, its floats stored
    /// as <paramref name="dtype"/>, and extra tensors added.
    /// </summary>
    private string Variant(string name, Func<SafeTensorInfo, string?> rename, SafeTensorsDType dtype = SafeTensorsDType.F32,
        Func<int[], int[]>? reshape = null, Action<SafeTensorsWriter>? extra = null)
    {
        using var reader = SafeTensorsReader.Open(TinySingle);
        var writer = new SafeTensorsWriter();
        foreach (var info in reader.Tensors)
        {
            if (rename(info) is not { } newName) continue;
            int[] shape = reshape?.Invoke([.. info.Shape]) ?? [.. info.Shape];
            if (info.DType.IsFloat()) writer.Add(newName, reader.ReadF32(info.Name), shape, dtype);
            else writer.Add(newName, reader.ReadI32(info.Name).Select(i => (long)i).ToArray(), shape);
        }
        extra?.Invoke(writer);
        var path = Path.Combine(folder.FullName, name);
        writer.Save(path);
        return path;
    }

    /// <summary>A copy of the fixture's diffusers folder (configs and weights; the tokenizer when asked).</summary>
    private string CopyOfTinyFolder(string name, bool withTokenizer = true)
    {
        var target = Path.Combine(folder.FullName, name);
        foreach (var file in Directory.GetFiles(TinyFolder, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(TinyFolder, file);
            if (!withTokenizer && relative.StartsWith("tokenizer", StringComparison.Ordinal)) continue;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(target, relative))!);
            File.Copy(file, Path.Combine(target, relative));
        }
        return target;
    }
}
