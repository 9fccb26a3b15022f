using System.Text;
using IlgpuDiffusion.Model.Images;
using IlgpuDiffusion.Model.Pipelines;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Model;
using IlgpuDiffusion.Tests.Model.Images;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Cli;

/// <summary><c>generate</c> on the tiny fixture model: diffusers parity through the console, file naming, PNG parameters, errors, the CPU guard.</summary>
public sealed class GenerateCommandTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>Stable Diffusion 1.5's unet/config.json (runwayml/stable-diffusion-v1-5).</summary>
    private const string StableDiffusion15UNetConfig = """
        {
          "_class_name": "UNet2DConditionModel", "act_fn": "silu", "attention_head_dim": 8,
          "block_out_channels": [320, 640, 1280, 1280], "center_input_sample": false, "cross_attention_dim": 768,
          "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
          "downsample_padding": 1, "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": 4, "layers_per_block": 2,
          "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4, "sample_size": 64,
          "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]
        }
        """;

    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("idf-generate-");

    public void Dispose() => folder.Delete(recursive: true);

    [Fact]
    public void Init_latents_from_diffusers_give_its_final_latents_and_a_png_with_parameters()
    {
        using var reference = SafeTensorsReader.Open(Fixtures.Path("reference", "pipeline.safetensors"));
        var request = PipelineParityTests.ReferenceRequest(reference);
        var initPath = InFolder("init.safetensors");
        LatentFile.Write(initPath, request.InitLatents!);
        var (png, latentsPath) = (InFolder("astronaut.png"), InFolder("final.safetensors"));

        var (code, stdout, stderr) = ConsoleRunner.Run("generate", "--model", TinyModel.Folder, "--device", "cpu",
            "--prompt", request.Prompt, "--negative-prompt", request.NegativePrompt, "--scheduler", "ddim", "--steps", "10",
            "--guidance", "7.5", "--width", "64", "--height", "64", "--seed", "1234",
            "--init-latents", initPath, "--output-latents", latentsPath, "--output", png);
        output.WriteLine(stdout);
        Assert.True(code == 0, stderr);
        Assert.Contains("step 10/10", stderr);
        Assert.Contains("it/s", stderr);
        Assert.Contains("denoising", stdout);
        Assert.Contains("peak device memory", stdout);

        var latents = LatentFile.Read(latentsPath);
        Assert.Equal(new[] { 1, 4, 8, 8 }, latents.Shape);
        double error = Reference.RelativeError(latents.Values, reference.ReadF32("final_latents"));
        output.WriteLine($"generate --output-latents vs diffusers final_latents: rel error {error:E2}");
        Assert.True(error <= 1e-3, $"final latents rel error {error}");

        var parameters = ReadParameters(png);
        Assert.Equal(new GenerationParameters(request.Prompt, request.NegativePrompt, 10, "DDIM", 7.5, 1234, 64, 64)
        {
            ModelName = "tiny-sd",
            ModelHash = ModelHash.A1111(Fixtures.Path("tiny-sd", "unet", "diffusion_pytorch_model.safetensors")),
        }, parameters);
        Assert.Equal(new[] { "astronaut.png", "final.safetensors", "init.safetensors" }, folder.GetFiles().Select(f => f.Name).Order());
    }

    [Fact]
    public void Several_images_are_numbered_and_carry_consecutive_seeds()
    {
        var (code, stdout, stderr) = ConsoleRunner.Run("generate", "--model", TinyModel.Folder, "--device", "cpu", "--prompt", "a red house",
            "--steps", "1", "--guidance", "1", "--width", "64", "--height", "48", "--seed", "41", "--batch-count", "2",
            "--vae", TinyModel.SingleFile, "--output", InFolder("house.png"));
        output.WriteLine(stdout);
        Assert.True(code == 0, stderr);

        Assert.Equal(new[] { "house-0001.png", "house-0002.png" }, folder.GetFiles().Select(f => f.Name).Order());
        var seeds = new[] { "house-0001.png", "house-0002.png" }.Select(name => ReadParameters(InFolder(name))).ToList();
        Assert.Equal(new[] { 41L, 42L }, seeds.Select(p => p.Seed));
        Assert.All(seeds, p => Assert.Equal(("PLMS", 1, 64, 48), (p.Sampler, p.Steps, p.Width, p.Height)));
        Assert.All(seeds, p => Assert.Contains(new KeyValuePair<string, string>("VAE", "tiny-sd-single.safetensors"), p.Extra));
        var image = ImageFile.Read(InFolder("house-0002.png"));
        Assert.Equal((64, 48), (image.Width, image.Height));
    }

    [Theory]
    [InlineData("width 60 is not a positive multiple of 8", "--width", "60")]
    [InlineData("height 12 is not a positive multiple of 8", "--height", "12")]
    [InlineData("--strength applies to image-to-image only", "--strength", "0.5")]
    [InlineData("'fast'", "--scheduler", "fast")]
    public void Bad_arguments_are_clear_errors_and_write_nothing(string message, string option, string value)
    {
        var (code, _, stderr) = ConsoleRunner.Run("generate", "--model", TinyModel.Folder, "--device", "cpu", "--prompt", "x", "--steps", "1",
            option, value, "--output", InFolder("x.png"));
        Assert.NotEqual(0, code);
        Assert.Contains(message, stderr);
        Assert.Empty(folder.GetFiles());
    }

    [Fact]
    public void Init_latents_of_the_wrong_size_name_the_expected_shape()
    {
        var initPath = InFolder("init.safetensors");
        LatentFile.Write(initPath, new HostTensor(new float[4 * 8 * 8], 1, 4, 8, 8));
        var (code, _, stderr) = ConsoleRunner.Run("generate", "--model", TinyModel.Folder, "--device", "cpu", "--prompt", "x",
            "--width", "128", "--height", "64", "--init-latents", initPath, "--output", InFolder("x.png"));
        Assert.NotEqual(0, code);
        Assert.Contains("init latents are [1, 4, 8, 8]; expected [1, 4, 8, 16]", stderr);
    }

    [Fact]
    public void A_full_size_model_on_the_cpu_is_refused_with_an_estimate_before_loading_weights()
    {
        // SD 1.5's UNet config over the tiny model's weights: only a guard that runs before loading would not fail on them.
        var config = Directory.CreateDirectory(InFolder("sd15-config", "unet"));
        File.WriteAllText(Path.Combine(config.FullName, "config.json"), StableDiffusion15UNetConfig);
        var (code, _, stderr) = ConsoleRunner.Run("generate", "--model", TinyModel.Folder, "--config", InFolder("sd15-config"), "--device", "cpu",
            "--prompt", "an astronaut", "--scheduler", "ddim", "--output", InFolder("x.png"));
        output.WriteLine(stderr);
        Assert.NotEqual(0, code);
        Assert.Contains("full-size model on the CPU accelerator", stderr);
        Assert.Contains("1 image(s) × 50 denoising steps of 64x64 latents with guidance", stderr);
        Assert.Contains("80.0 TFLOP", stderr);
        Assert.Contains("44.4 hours", stderr);
        Assert.Contains("--force", stderr);
        Assert.False(File.Exists(InFolder("x.png")));
    }

    private string InFolder(params string[] parts) => Path.Combine([folder.FullName, .. parts]);

    /// <summary>The A1111 parameters of a PNG's <c>parameters</c> tEXt chunk.</summary>
    private static GenerationParameters ReadParameters(string png)
    {
        var text = Assert.Single(PngChunks.Read(File.ReadAllBytes(png)), c => c.Type == "tEXt").Data;
        int nul = Array.IndexOf(text, (byte)0);
        Assert.Equal(PngWriter.ParametersKeyword, Encoding.Latin1.GetString(text, 0, nul));
        return GenerationParameters.Parse(Encoding.Latin1.GetString(text, nul + 1, text.Length - nul - 1));
    }
}
