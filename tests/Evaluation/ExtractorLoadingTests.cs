using IlgpuDiffusion.Evaluation.Extractors;
using IlgpuDiffusion.Evaluation.Models;
using IlgpuDiffusion.Evaluation.Preprocessing;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Evaluation;

/// <summary>The public checkpoints' config variants, and the errors for bad folders and inputs.</summary>
public sealed class ExtractorLoadingTests : IDisposable
{
    private readonly DirectoryInfo scratch = Directory.CreateTempSubdirectory("evalx-");

    public void Dispose() => scratch.Delete(recursive: true);

    [Fact]
    public void Reads_the_configs_of_openai_clip_vit_large_patch14()
    {
        // The keys that matter, as openai/clip-vit-large-patch14's config.json and preprocessor_config.json have them.
        var config = ClipModelConfig.Load(Write("config.json", """
            {"projection_dim": 768,
             "text_config": {"vocab_size": 49408, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
                             "intermediate_size": 3072, "max_position_embeddings": 77, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05},
             "vision_config": {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096,
                               "image_size": 224, "patch_size": 14, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05}}
            """));
        Assert.Equal((768, 1024, 24, 16), (config.ProjectionDim, config.Vision.HiddenSize, config.Vision.NumHiddenLayers, config.Vision.NumAttentionHeads));
        Assert.Equal((16, 257, "quick_gelu"), (config.Vision.GridSize, config.Vision.Tokens, config.Vision.HiddenAct));
        Assert.Equal((768, 12), (config.Text.HiddenSize, config.Text.NumHiddenLayers));

        var processor = ImageProcessorConfig.Load(Write("preprocessor_config.json", """
            {"crop_size": 224, "do_center_crop": true, "do_normalize": true, "do_resize": true, "feature_extractor_type": "CLIPFeatureExtractor",
             "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "size": 224}
            """));
        Assert.Equal((224, true, 224, 224, ResampleFilter.Bicubic), (processor.ShortestEdge, processor.DoCenterCrop, processor.CropHeight, processor.CropWidth, processor.Resample));
    }

    [Fact]
    public void A_clip_config_saved_as_a_diff_from_the_defaults_takes_the_defaults()
    {
        var config = ClipModelConfig.Load(Write("config.json", """{"text_config": {"num_hidden_layers": 6}, "vision_config": {"patch_size": 16}}"""));
        Assert.Equal((512, 49408, 512, 6, 8, 2048, 77), (config.ProjectionDim, config.Text.VocabSize, config.Text.HiddenSize,
            config.Text.NumHiddenLayers, config.Text.NumAttentionHeads, config.Text.IntermediateSize, config.Text.MaxPositionEmbeddings));
        Assert.Equal((768, 12, 12, 3072, 197, "quick_gelu"), (config.Vision.HiddenSize, config.Vision.NumHiddenLayers,
            config.Vision.NumAttentionHeads, config.Vision.IntermediateSize, config.Vision.Tokens, config.Vision.HiddenAct));
    }

    [Fact]
    public void Reads_the_configs_of_facebook_dino_vits16()
    {
        var config = VisionConfig.Vit(ConfigJson.Load(Write("config.json", """
            {"hidden_size": 384, "num_hidden_layers": 12, "num_attention_heads": 6, "intermediate_size": 1536, "image_size": 224,
             "patch_size": 16, "qkv_bias": true, "hidden_act": "gelu", "layer_norm_eps": 1e-12, "model_type": "vit"}
            """)));
        Assert.Equal((384, 197, "gelu", 1e-12), (config.HiddenSize, config.Tokens, config.HiddenAct, config.LayerNormEps));
        var processor = ImageProcessorConfig.Load(Write("preprocessor_config.json", """
            {"do_normalize": true, "do_resize": true, "feature_extractor_type": "ViTFeatureExtractor", "image_mean": [0.485, 0.456, 0.406],
             "image_std": [0.229, 0.224, 0.225], "resample": 2, "size": 224}
            """));
        Assert.Equal((null, 224, 224, false, ResampleFilter.Bilinear), (processor.ShortestEdge, processor.ResizeHeight, processor.ResizeWidth, processor.DoCenterCrop, processor.Resample));
    }

    [Fact]
    public void A_config_that_asks_for_a_missing_layer_names_the_weights_file_and_the_tensor()
    {
        var folder = Copy(EvalFixtures.Dino);
        var configPath = Path.Combine(folder, "config.json");
        File.WriteAllText(configPath, File.ReadAllText(configPath).Replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3", StringComparison.Ordinal));
        var e = Assert.Throws<CheckpointException>(() => DinoModel.Load(folder, Devices.Portable));
        Assert.Contains(Path.Combine(folder, "model.safetensors"), e.Message);
        Assert.Contains("encoder.layer.2.", e.Message);
    }

    [Fact]
    public void A_clip_folder_without_a_vocabulary_or_with_a_bad_config_is_refused_by_name()
    {
        var folder = Copy(EvalFixtures.Clip);
        File.Delete(Path.Combine(folder, "vocab.json"));
        var e = Assert.Throws<CheckpointException>(() => ClipModel.Load(folder, Devices.Portable));
        Assert.Contains("vocab.json", e.Message);

        var configPath = Path.Combine(folder, "config.json");
        File.WriteAllText(configPath, """{"projection_dim": 16, "text_config": {"hidden_size": "wide"}, "vision_config": {}}""");
        var bad = Assert.Throws<ConfigException>(() => ClipModel.Load(folder, Devices.Portable));
        Assert.Contains(configPath, bad.Message);
        Assert.Contains("text_config.hidden_size", bad.Message);

        Assert.Throws<CheckpointException>(() => ClipModel.Load(Path.Combine(folder, "nowhere"), Devices.Portable));
    }

    [Fact]
    public void Pixels_of_the_wrong_size_or_type_are_refused_before_any_kernel()
    {
        using var dino = DinoModel.Load(EvalFixtures.Dino, Devices.Portable);
        using var small = Tensor.FromHost(Devices.Portable, new float[2 * 3 * 16 * 16], 2, 3, 16, 16);
        var e = Assert.Throws<ArgumentException>(() => dino.EncodeImages(small));
        Assert.Contains("[N, 3, 32, 32]", e.Message);
        using var ids = Tensor.FromHost(Devices.Portable, new int[3 * 32 * 32], 1, 3, 32, 32);
        Assert.Throws<ArgumentException>(() => dino.EncodeImages(ids));
    }

    private string Write(string name, string json)
    {
        var path = Path.Combine(scratch.FullName, name);
        File.WriteAllText(path, json);
        return path;
    }

    private string Copy(string source)
    {
        var target = Directory.CreateDirectory(Path.Combine(scratch.FullName, Path.GetFileName(source))).FullName;
        foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        return target;
    }
}
