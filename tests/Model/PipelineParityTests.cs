using IlgpuDiffusion.Model.Images;
using IlgpuDiffusion.Model.Pipelines;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Model;

/// <summary>
/// <see cref="StableDiffusionPipeline"/> on the tiny fixture model: parity with diffusers 0.21.4's StableDiffusionPipeline
/// (reference/pipeline.safetensors), seeds, sizes, image-to-image and prompt conditioning. Sampling runs are few and
/// short (≤ 2 steps except the 10-step parity run): the CPU accelerator takes seconds per tiny UNet call.
/// </summary>
public sealed class PipelineParityTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>The bound for the whole pipeline (10 steps of guided sampling amplify the per-call 1e-4).</summary>
    private const double Bound = 1e-3;

    private readonly SafeTensorsReader reference = SafeTensorsReader.Open(Fixtures.Path("reference", "pipeline.safetensors"));

    public void Dispose() => reference.Dispose();

    /// <summary>The fixture run: DDIM from the SD 1.5 config, 64×64, 10 steps, guidance 7.5, eta 0, from its initial latents.</summary>
    internal static TextToImageRequest ReferenceRequest(SafeTensorsReader reference) => new()
    {
        Prompt = reference.Metadata["prompt"],
        NegativePrompt = reference.Metadata["negative_prompt"],
        Scheduler = "ddim",
        Steps = 10,
        Guidance = 7.5,
        Width = 64,
        Height = 64,
        InitLatents = new HostTensor(reference.ReadF32("initial_latents"), 1, 4, 8, 8),
    };

    [Fact]
    public void Ten_ddim_steps_match_diffusers()
    {
        var pipeline = TinyModel.Pipeline;
        var request = ReferenceRequest(reference);
        Assert.Equal(reference.ReadI32("prompt_ids"), pipeline.Tokenizer.Encode(request.Prompt));
        Assert.Equal(reference.ReadI32("negative_prompt_ids"), pipeline.Tokenizer.Encode(request.NegativePrompt));
        var (prompt, negative) = pipeline.Prompts.EncodePair(request.Prompt, request.NegativePrompt);
        Check("prompt_embeds", prompt.Values, reference.ReadF32("prompt_embeds"), 1e-4);
        Check("negative_prompt_embeds", negative.Values, reference.ReadF32("negative_prompt_embeds"), 1e-4);

        var steps = new List<float[]>();
        var result = pipeline.Generate(request, progress => steps.Add(progress.Latents.Values));

        var perStep = reference.ReadF32("latents_per_step");
        Assert.Equal(10, steps.Count);
        for (int i = 0; i < steps.Count; i++) Check($"latents after step {i + 1}", steps[i], perStep.AsSpan(i * 256, 256).ToArray(), Bound);
        Check("final_latents", result.Latents.Values, reference.ReadF32("final_latents"), Bound);
        Check("image_decoded_raw", result.Decoded.Values, reference.ReadF32("image_decoded_raw"), Bound);
        Check("image_0_1", [.. result.Decoded.Values.Select(x => Math.Clamp(x / 2f + 0.5f, 0f, 1f))], reference.ReadF32("image_0_1"), Bound);

        var image = Assert.Single(result.Images);
        Assert.Equal((64, 64), (image.Image.Width, image.Image.Height));
        Assert.Equal("DDIM", image.Parameters.Sampler);
        Assert.Equal("tiny-sd", image.Parameters.ModelName);
        Assert.Equal(ModelHash.A1111(Fixtures.Path("tiny-sd", "unet", "diffusion_pytorch_model.safetensors")), image.Parameters.ModelHash);
        Assert.True(result.PeakDeviceBytes > 0);
        output.WriteLine($"timings: {result.Timings}; peak device memory {result.PeakDeviceBytes / 1048576.0:F1} MiB");
    }

    [Fact]
    public void A_seed_repeats_its_image_in_any_batch_and_the_next_seed_differs_unguided_at_a_non_square_size()
    {
        var request = new TextToImageRequest
        {
            Prompt = "a red house", Scheduler = "euler-a", Steps = 2, Guidance = 1, Width = 32, Height = 24, Seed = 7, BatchSize = 2,
        };
        var pair = TinyModel.Pipeline.Generate(request);
        var single = TinyModel.Pipeline.Generate(request with { BatchSize = 1 });

        Assert.Equal(new[] { 2, 4, 3, 4 }, pair.Latents.Shape);
        Assert.Equal(new[] { 1, 3, 24, 32 }, single.Decoded.Shape);
        Assert.All(pair.Images, image => Assert.Equal((32, 24), (image.Image.Width, image.Image.Height)));
        Assert.Equal(new[] { 7L, 8L }, pair.Images.Select(image => image.Seed));
        Assert.Equal(new[] { 7L, 8L }, pair.Images.Select(image => image.Parameters.Seed));
        double repeat = Reference.RelativeError(single.Latents.Item(0), pair.Latents.Item(0));
        double next = Reference.RelativeError(pair.Latents.Item(1), pair.Latents.Item(0));
        output.WriteLine($"seed 7 alone and in a batch of two: rel difference {repeat:E2}; seed 8 vs seed 7: {next:E2}");
        Assert.True(repeat <= 1e-5, $"the same seed gave latents {repeat} apart");
        Assert.True(next > 0.1, $"seeds 7 and 8 gave latents only {next} apart");
    }

    [Fact]
    public void Image_to_image_runs_strength_times_steps_and_changes_the_image()
    {
        var input = Gradient(32, 32);
        int callbacks = 0;
        var result = TinyModel.Pipeline.Generate(
            new TextToImageRequest { Prompt = "a red house", Scheduler = "euler", Steps = 2, Strength = 0.5, InitImage = input, Seed = 3 },
            progress =>
            {
                callbacks++;
                Assert.Equal(1, progress.Total);
            });

        Assert.Equal(1, callbacks);
        var image = Assert.Single(result.Images).Image;
        Assert.Equal((32, 32), (image.Width, image.Height));
        Assert.NotEqual(input.Pixels.ToArray(), image.Pixels.ToArray());
        Assert.Contains(new KeyValuePair<string, string>("Denoising strength", "0.5"), result.Images[0].Parameters.Extra);
        Assert.True(result.Timings.ImageEncoding > TimeSpan.Zero);
    }

    [Fact]
    public void Prompt_weights_scale_only_the_weighted_tokens_before_the_mean_rescale()
    {
        var prompts = TinyModel.Pipeline.Prompts;
        var plain = prompts.Encode("a photo of a cat on a mat");
        var weighted = prompts.Encode("a photo of a (cat:1.5) on a mat");
        Assert.Equal(77, weighted.Tokens);
        int width = plain.Width;

        // Each row of the weighted embedding is the plain row × its weight × one common rescale s (A1111's original_mean / new_mean).
        double[] ratios = [.. Enumerable.Range(0, 77).Select(t => RowRatio(weighted.Values, plain.Values, t, width))];
        const int cat = 5; // bos, a, photo, of, a, cat
        double rescale = ratios[0];
        for (int t = 0; t < 77; t++)
            Assert.True(Math.Abs(ratios[t] / rescale - (t == cat ? 1.5 : 1.0)) < 1e-5, $"token {t}: ratio {ratios[t]}, common rescale {rescale}");
        Assert.True(Math.Abs(rescale - 1) > 1e-6, $"the weighted chunk was not rescaled ({rescale})");
        Assert.Equal(plain.Values.Average(v => (double)v), weighted.Values.Average(v => (double)v), 1e-6);
    }

    [Fact]
    public void A_100_token_prompt_gives_two_chunks_and_the_negative_prompt_is_padded_to_match()
    {
        var prompt = string.Join(" ", Enumerable.Repeat("house", 100));
        Assert.Equal(100, TinyModel.Pipeline.Tokenizer.Tokenize(prompt).Count);
        var (positive, negative) = TinyModel.Pipeline.Prompts.EncodePair(prompt, "");
        var empty = TinyModel.Pipeline.Prompts.Encode("");

        Assert.Equal((154, 2), (positive.Tokens, positive.Chunks));
        Assert.Equal(154, negative.Tokens);
        Assert.Equal(positive.Values.Length, negative.Values.Length);
        int chunk = 77 * empty.Width;
        Assert.True(Reference.RelativeError(negative.Values.AsSpan(chunk, chunk), empty.Values) <= 1e-6, "the padding chunk is the empty prompt's encoding");
    }

    [Theory]
    [InlineData(60, 64, "width 60")]
    [InlineData(64, 30, "height 30")]
    public void A_size_that_is_not_a_multiple_of_8_is_refused(int width, int height, string named)
    {
        var error = Assert.Throws<ArgumentException>(() =>
            TinyModel.Pipeline.Generate(new TextToImageRequest { Prompt = "x", Width = width, Height = height, Steps = 1 }));
        Assert.Contains(named, error.Message);
        Assert.Contains("multiple of 8", error.Message);
    }

    private void Check(string name, float[] actual, float[] expected, double bound)
    {
        double error = Reference.RelativeError(actual, expected);
        output.WriteLine($"{name}: rel error {error:E2} (bound {bound:E0})");
        Assert.True(error <= bound, $"{name}: rel error {error}");
    }

    /// <summary>‖weighted row‖ / ‖plain row‖ with the sign of their dot product.</summary>
    private static double RowRatio(float[] weighted, float[] plain, int token, int width)
    {
        double dot = 0, norm = 0;
        for (int c = token * width; c < (token + 1) * width; c++)
        {
            dot += (double)weighted[c] * plain[c];
            norm += (double)plain[c] * plain[c];
        }
        return dot / norm;
    }

    private static RgbImage Gradient(int width, int height)
    {
        var pixels = new byte[3 * width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                (pixels[3 * (y * width + x)], pixels[3 * (y * width + x) + 1], pixels[3 * (y * width + x) + 2]) = ((byte)(8 * x), (byte)(8 * y), 128);
        return new RgbImage(width, height, pixels);
    }
}
