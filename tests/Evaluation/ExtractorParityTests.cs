using IlgpuDiffusion.Evaluation.Extractors;
using IlgpuDiffusion.Evaluation.Preprocessing;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Evaluation;

/// <summary>
/// The CLIP and DINO towers against transformers 4.30's CLIPModel and ViTModel on the tiny fixtures
/// (reference/eval.safetensors, reference/preprocess.safetensors): every tensor within 1e-4 absolute or 1e-4
/// relative (whichever is looser), cosine matrices within 1e-5.
/// </summary>
public sealed class ExtractorParityTests(EvalModels models, ITestOutputHelper output) : IClassFixture<EvalModels>, IDisposable
{
    private const double Bound = 1e-4;
    private const double CosineBound = 1e-5;

    private readonly SafeTensorsReader reference = EvalFixtures.Eval();

    public void Dispose() => reference.Dispose();

    [Fact]
    public void Clip_vision_tower_matches_transformers()
    {
        var clip = models.Clip;
        using var pixels = reference.ReadTensor(Devices.Portable, "pixel_values");
        using var result = clip.EncodeImages(pixels);
        Check("clip_vision_last_hidden_state", result.LastHiddenState.Value, [4, 17, 32]);
        Check("clip_vision_pooled", result.Pooled.Value, [4, 32]);
        var embeds = Check("clip_image_embeds", result.Embeds!.Value, [4, 16]);
        CheckCosines("clip_i", embeds, embeds, 16);
    }

    [Fact]
    public void Clip_text_tower_matches_transformers_and_pools_at_the_first_end_token()
    {
        var clip = models.Clip;
        using var ids = reference.ReadTensor(Devices.Portable, "input_ids", DType.I32);
        using var result = clip.EncodeTexts(ids);
        Check("clip_text_last_hidden_state", result.LastHiddenState.Value, [3, 77, 32]);
        Check("clip_text_pooled", result.Pooled.Value, [3, 32]);
        var textEmbeds = Check("clip_text_embeds", result.Embeds!.Value, [3, 16]);
        CheckCosines("clip_t", reference.ReadF32("clip_image_embeds"), textEmbeds, 16);
    }

    [Fact]
    public void Clip_embeds_prompts_through_its_tokenizer()
    {
        var clip = models.Clip;
        var prompts = System.Text.Json.JsonSerializer.Deserialize<string[]>(reference.Metadata["prompts"])!;
        Assert.Equal(3, prompts.Length);
        var embeds = clip.EmbedTexts(prompts);
        Assert.Equal(16, clip.Dimension);
        CheckRows("clip_text_embeds (from prompts)", embeds, reference.ReadF32("clip_text_embeds"));
    }

    [Fact]
    public void Dino_matches_transformers()
    {
        var dino = models.Dino;
        using var pixels = reference.ReadTensor(Devices.Portable, "pixel_values");
        using var result = dino.EncodeImages(pixels);
        Assert.Null(result.Embeds);
        Check("dino_last_hidden_state", result.LastHiddenState.Value, [4, 17, 32]);
        var cls = Check("dino_cls", result.Pooled.Value, [4, 32]);
        CheckCosines("dino_i", cls, cls, 32);
    }

    [Fact]
    public void Raw_images_end_to_end_match_the_processors_and_models()
    {
        using var preprocess = EvalFixtures.Preprocess();
        var images = EvalFixtures.RawImages(preprocess);
        var clip = models.Clip;
        var dino = models.Dino;
        CheckRows("clip.image_embeds (raw images)", clip.EmbedImages(images), preprocess.ReadF32("clip.image_embeds"));
        CheckRows("dino.cls (raw images)", dino.EmbedImages(images), preprocess.ReadF32("dino.cls"));
    }

    [Fact]
    public void Dino_with_the_torchvision_transform_matches_the_dinotv_reference()
    {
        using var preprocess = EvalFixtures.Preprocess();
        using var dino = DinoModel.Load(EvalFixtures.Dino, Devices.Portable, TorchvisionCenterCrop.DinoEvaluation(32));
        CheckRows("dinotv.cls (raw images)", dino.EmbedImages(EvalFixtures.RawImages(preprocess)), preprocess.ReadF32("dinotv.cls"));
    }

    private float[] Check(string name, Tensor actual, int[] shape)
    {
        Assert.Equal(shape, actual.Shape.ToArray());
        Assert.Equal(shape, reference.GetInfo(name).Shape.ToArray());
        var values = actual.ToFloatArray();
        Within(name, values, reference.ReadF32(name));
        return values;
    }

    private void CheckRows(string name, float[][] rows, float[] expected)
    {
        Assert.Equal(expected.Length, rows.Sum(r => r.Length));
        Within(name, [.. rows.SelectMany(r => r)], expected);
    }

    /// <summary>Every value within max(1e-4, 1e-4·|expected|) of the reference, which must not be near zero.</summary>
    private void Within(string name, float[] actual, float[] expected)
    {
        Assert.True(expected.Max(Math.Abs) > 0.1f, $"{name}: the reference is nearly zero");
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
            worst = Math.Max(worst, Math.Abs(actual[i] - (double)expected[i]) / Math.Max(1.0, Math.Abs(expected[i])));
        output.WriteLine($"{name}: largest error {worst:E2} (absolute, relative above 1)");
        Assert.True(worst <= Bound, $"{name}: error {worst} exceeds {Bound}");
    }

    /// <summary>cos(a_i, b_j) in float64 against the reference matrix.</summary>
    private void CheckCosines(string name, float[] a, float[] b, int dimension)
    {
        var expected = reference.ReadF32(name); // F64 in the file; rounding to float (≤ 6e-8) is far below the bound
        int rows = a.Length / dimension, columns = b.Length / dimension;
        Assert.Equal(rows * columns, expected.Length);
        double worst = 0;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
            {
                var x = a.AsSpan(i * dimension, dimension);
                var y = b.AsSpan(j * dimension, dimension);
                double dot = 0, xx = 0, yy = 0;
                for (int k = 0; k < dimension; k++)
                {
                    dot += (double)x[k] * y[k];
                    xx += (double)x[k] * x[k];
                    yy += (double)y[k] * y[k];
                }
                worst = Math.Max(worst, Math.Abs(dot / Math.Sqrt(xx * yy) - expected[i * columns + j]));
            }
        output.WriteLine($"{name}: largest cosine error {worst:E2}");
        Assert.True(worst <= CosineBound, $"{name}: cosine error {worst} exceeds {CosineBound}");
    }
}
