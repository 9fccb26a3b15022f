using System.Text.Json.Nodes;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Model;

public sealed class ConfigTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("idf-configs-");

    public void Dispose() => folder.Delete(recursive: true);

    private static string Fixture(string component, string file = "config.json") => Fixtures.Path("tiny-sd", component, file);

    [Fact]
    public void UNet_config_of_the_fixture_parses_to_its_values()
    {
        var c = UNetConfig.Load(Fixture("unet"));
        Assert.Equal((4, 4, 8), (c.InChannels, c.OutChannels, c.SampleSize));
        Assert.Equal([32, 32, 64, 64], c.BlockOutChannels);
        Assert.Equal(["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"], c.DownBlockTypes);
        Assert.Equal(["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"], c.UpBlockTypes);
        Assert.Equal("UNetMidBlock2DCrossAttn", c.MidBlockType);
        Assert.Equal(2, c.LayersPerBlock);
        Assert.Equal([8, 8, 8, 8], c.AttentionHeads); // attention_head_dim 8 = eight heads, as in SD 1.5
        Assert.Equal([1, 1, 1, 1], c.TransformerLayersPerBlock);
        Assert.Equal([false, false, false, false], c.OnlyCrossAttention);
        Assert.Equal((32, 32, 1e-5), (c.CrossAttentionDim, c.NormNumGroups, c.NormEps));
        Assert.Equal((false, true, 0, "silu", false), (c.UseLinearProjection, c.FlipSinToCos, c.FreqShift, c.ActFn, c.UpcastAttention));
        Assert.Equal((4, 128), (c.Levels, c.TimeEmbeddingDim));
        Assert.True(c.DownBlockHasAttention(0) && !c.DownBlockHasAttention(3) && !c.UpBlockHasAttention(0) && c.UpBlockHasAttention(3));
    }

    [Fact]
    public void Vae_config_of_the_fixture_parses_to_its_values()
    {
        var c = VaeConfig.Load(Fixture("vae"));
        Assert.Equal([32, 32, 64, 64], c.BlockOutChannels);
        Assert.Equal((1, 4, 3, 3, 32, 64, "silu"), (c.LayersPerBlock, c.LatentChannels, c.InChannels, c.OutChannels, c.NormNumGroups, c.SampleSize, c.ActFn));
        Assert.Equal(0.18215, c.ScalingFactor);
    }

    [Fact]
    public void Text_encoder_config_of_the_fixture_parses_to_its_values()
    {
        var c = ClipTextConfig.Load(Fixture("text_encoder"));
        Assert.Equal((49408, 32, 3, 4, 64, 77), (c.VocabSize, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize, c.MaxPositionEmbeddings));
        Assert.Equal(("quick_gelu", 1e-5, (int?)32, 8), (c.HiddenAct, c.LayerNormEps, c.ProjectionDim, c.HeadDim));
    }

    [Fact]
    public void Model_folder_config_holds_the_three_networks_and_the_scheduler_file()
    {
        var c = StableDiffusionConfig.FromFolder(Fixtures.Path("tiny-sd"));
        Assert.Equal([32, 32, 64, 64], c.UNet.BlockOutChannels);
        Assert.Equal(1, c.Vae.LayersPerBlock);
        Assert.Equal(3, c.TextEncoder.NumHiddenLayers);
        Assert.Equal(Path.GetFullPath(Fixture("scheduler", "scheduler_config.json")), c.SchedulerConfigPath);
    }

    [Fact]
    public void Built_in_defaults_are_stable_diffusion_1_5_and_valid()
    {
        var sd = StableDiffusionConfig.StableDiffusion15;
        Assert.Equal([320, 640, 1280, 1280], sd.UNet.BlockOutChannels);
        Assert.Equal((2, 768, 32), (sd.UNet.LayersPerBlock, sd.UNet.CrossAttentionDim, sd.UNet.NormNumGroups));
        Assert.Equal([8, 8, 8, 8], sd.UNet.AttentionHeads);
        Assert.Equal([128, 256, 512, 512], sd.Vae.BlockOutChannels);
        Assert.Equal((2, 4, 0.18215), (sd.Vae.LayersPerBlock, sd.Vae.LatentChannels, sd.Vae.ScalingFactor));
        Assert.Equal((768, 12, 12, 3072, "quick_gelu", 49408, 77), (sd.TextEncoder.HiddenSize, sd.TextEncoder.NumHiddenLayers,
            sd.TextEncoder.NumAttentionHeads, sd.TextEncoder.IntermediateSize, sd.TextEncoder.HiddenAct, sd.TextEncoder.VocabSize,
            sd.TextEncoder.MaxPositionEmbeddings));
        Assert.Null(sd.SchedulerConfigPath);
        sd.UNet.Validate("defaults");
        sd.Vae.Validate("defaults");
        sd.TextEncoder.Validate("defaults");
    }

    [Theory]
    [InlineData("unet", "block_out_channels")]
    [InlineData("unet", "layers_per_block")]
    [InlineData("unet", "cross_attention_dim")]
    [InlineData("unet", "attention_head_dim")]
    [InlineData("vae", "latent_channels")]
    [InlineData("text_encoder", "hidden_size")]
    [InlineData("text_encoder", "num_attention_heads")]
    public void Missing_required_key_names_the_file_and_the_key(string component, string key)
    {
        var path = Modified(component, json => json.Remove(key));
        var e = Assert.Throws<ConfigException>(() => Load(component, path));
        Assert.Equal((path, key), (e.FilePath, e.Key));
        Assert.Contains(path, e.Message);
        Assert.Contains($"'{key}'", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void Null_value_counts_as_absent_and_defaults_apply()
    {
        var c = UNetConfig.Load(Modified("unet", json =>
        {
            json["norm_num_groups"] = null;
            json.Remove("transformer_layers_per_block");
            json.Remove("sample_size");
        }));
        Assert.Equal(32, c.NormNumGroups);
        Assert.Equal([1, 1, 1, 1], c.TransformerLayersPerBlock);
        Assert.Equal(64, c.SampleSize);
    }

    [Fact]
    public void Unknown_keys_are_ignored()
    {
        var c = UNetConfig.Load(Modified("unet", json =>
        {
            json["some_future_option"] = new JsonObject { ["nested"] = new JsonArray(1, 2) };
            json["another"] = "text";
        }));
        Assert.Equal([32, 32, 64, 64], c.BlockOutChannels);
    }

    [Fact]
    public void Per_block_lists_and_num_attention_heads_are_read()
    {
        var c = UNetConfig.Load(Modified("unet", json =>
        {
            json["attention_head_dim"] = new JsonArray(2, 4, 8, 8);
            json["transformer_layers_per_block"] = new JsonArray(1, 2, 1, 1);
            json["only_cross_attention"] = new JsonArray(false, true, false, false);
        }));
        Assert.Equal([2, 4, 8, 8], c.AttentionHeads);
        Assert.Equal([1, 2, 1, 1], c.TransformerLayersPerBlock);
        Assert.Equal([false, true, false, false], c.OnlyCrossAttention);

        var heads = UNetConfig.Load(Modified("unet", json => json["num_attention_heads"] = 4));
        Assert.Equal([4, 4, 4, 4], heads.AttentionHeads);
    }

    [Theory]
    [InlineData("layers_per_block", "\"two\"", "expected an integer")]
    [InlineData("attention_head_dim", "[8, 8]", "one per block")]
    [InlineData("block_out_channels", "[32, 32, 64]", "3 levels")]
    [InlineData("norm_num_groups", "3", "do not divide")]
    [InlineData("down_block_types", "[\"CrossAttnDownBlock2D\", \"CrossAttnDownBlock2D\", \"SimpleCrossAttnDownBlock2D\", \"DownBlock2D\"]", "supported")]
    [InlineData("class_embed_type", "\"timestep\"", "not supported")]
    [InlineData("resnet_time_scale_shift", "\"scale_shift\"", "not supported")]
    public void Bad_values_name_the_key(string key, string json, string problem)
    {
        var path = Modified("unet", config => config[key] = JsonNode.Parse(json));
        var e = Assert.Throws<ConfigException>(() => UNetConfig.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(problem, e.Message);
        Assert.NotNull(e.Key);
    }

    [Fact]
    public void Not_json_or_absent_names_the_file()
    {
        var bad = Path.Combine(folder.FullName, "bad.json");
        File.WriteAllText(bad, "{ \"in_channels\": 4,");
        Assert.Contains(bad, Assert.Throws<ConfigException>(() => UNetConfig.Load(bad)).Message);
        var absent = Path.Combine(folder.FullName, "absent.json");
        Assert.Contains("does not exist", Assert.Throws<ConfigException>(() => VaeConfig.Load(absent)).Message);
    }

    private static object Load(string component, string path) => component switch
    {
        "unet" => UNetConfig.Load(path),
        "vae" => VaeConfig.Load(path),
        _ => ClipTextConfig.Load(path),
    };

    /// <summary>A copy of the fixture's config of <paramref name="component"/> changed by <paramref name="change"/>.</summary>
    private string Modified(string component, Action<JsonObject> change)
    {
        var json = JsonNode.Parse(File.ReadAllText(Fixture(component)))!.AsObject();
        change(json);
        var path = Path.Combine(folder.FullName, $"{component}-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }
}
