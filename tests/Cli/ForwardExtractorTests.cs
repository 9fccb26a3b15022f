using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Evaluation;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Cli;

/// <summary><c>forward --component clip-image|clip-text|dino</c> on reference/eval.safetensors, against its own outputs.</summary>
public sealed class ForwardExtractorTests(ITestOutputHelper output) : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("idf-forward-eval-");

    public void Dispose() => folder.Delete(recursive: true);

    [Theory]
    [InlineData("clip-image", "tiny-clip", new[] { "clip_image_embeds", "clip_vision_pooled", "clip_vision_last_hidden_state" })]
    [InlineData("clip-text", "tiny-clip", new[] { "clip_text_embeds", "clip_text_pooled", "clip_text_last_hidden_state" })]
    [InlineData("dino", "tiny-dino", new[] { "dino_cls", "dino_last_hidden_state" })]
    public void Writes_the_fixture_outputs(string component, string model, string[] outputs)
    {
        var referencePath = Fixtures.Path("eval", "reference", "eval.safetensors");
        var outPath = Path.Combine(folder.FullName, "out.safetensors");
        var (code, stdout, stderr) = ConsoleRunner.Run("forward", "--model", Fixtures.Path("eval", model), "--component", component,
            "--input", referencePath, "--output", outPath);
        Assert.True(code == 0, stderr);
        Assert.Contains("wrote", stdout);

        using var written = SafeTensorsReader.Open(outPath);
        using var reference = SafeTensorsReader.Open(referencePath);
        Assert.Equal(outputs.Order(), written.Tensors.Select(t => t.Name).Order());
        foreach (var name in outputs)
        {
            Assert.Equal(reference.GetInfo(name).Shape, written.GetInfo(name).Shape);
            var expected = reference.ReadF32(name);
            var actual = written.ReadF32(name);
            double worst = expected.Zip(actual, (e, a) => Math.Abs(a - (double)e) / Math.Max(1.0, Math.Abs(e))).Max();
            output.WriteLine($"forward {component}: {name} largest error {worst:E2}");
            Assert.True(worst <= 1e-4, $"{name} error {worst}");
        }
    }

    [Fact]
    public void Sd_options_are_refused_for_an_extractor()
    {
        var (code, _, stderr) = ConsoleRunner.Run("forward", "--model", EvalFixtures.Dino, "--component", "dino", "--weights", "f16",
            "--input", Fixtures.Path("eval", "reference", "eval.safetensors"), "--output", Path.Combine(folder.FullName, "out.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains("--weights", stderr);
    }
}
