using System.Text.Json;
using IlgpuDiffusion.Tests.Evaluation;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Cli;

/// <summary>
/// <c>evaluate-sequence</c> end to end on the tiny fixture model with tiny CLIP and DINO: two synthetic concepts, two
/// methods into one folder (2 training steps, 2 images per concept, 2 sampling steps, one context prompt). Every output
/// file exists, the score files hold every cell of both methods, and the report parses and links only existing files.
/// Slow on the CPU accelerator (minutes: 4 trainings, 24 images, 3 pipeline loads per method), hence the trait:
/// exclude it with <c>--filter "Category!=Slow"</c> where the suite has a tight time budget.
/// </summary>
public sealed class EvaluateSequenceCommandTests : IDisposable
{
    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("idf-evalseq-");

    public void Dispose() => root.Delete(recursive: true);

    [Fact]
    [Trait("Category", "Slow")]
    public void Two_methods_produce_every_output_and_a_report_that_links_existing_files()
    {
        SyntheticImages.Write(Path.Combine(root.FullName, "data", "rex"), 2, seed: 31);
        SyntheticImages.Write(Path.Combine(root.FullName, "data", "tom"), 2, seed: 32);
        string concepts = Path.Combine(root.FullName, "concepts.json");
        File.WriteAllText(concepts, """[{"name": "rex", "images": "data/rex", "class": "dog"}, {"name": "tom", "images": "data/tom", "class": "cat"}]""");
        string prompts = Path.Combine(root.FullName, "prompts.txt");
        File.WriteAllText(prompts, "a photo of {} on the beach\n");
        string output = Path.Combine(root.FullName, "eval");

        foreach (var method in new[] { "c-lora", "lora" })
        {
            var (code, stdout, stderr) = ConsoleRunner.Run("evaluate-sequence", "--model", TinyModel.Folder, "--concepts", concepts,
                "--method", method, "--images-per-concept", "2", "--clip", EvalFixtures.Clip, "--dino", EvalFixtures.Dino, "--out", output,
                "--context-prompts", prompts, "--steps", "2", "--rank", "2", "--resolution", "64", "--sample-steps", "2", "--device", "cpu");
            Assert.True(code == 0, stderr);
            Assert.Contains($"{method}: 2 of 2 tasks done", stdout);
        }

        foreach (var file in new[] { "manifest.json", "scores.csv", "scores.json", "report.html" })
            Assert.True(File.Exists(Path.Combine(output, file)), file);
        foreach (var method in new[] { "c-lora", "lora" })
            foreach (var (task, concept) in new[] { (1, "rex"), (2, "rex"), (2, "tom") })
                foreach (var image in new[] { "fidelity-00.png", "fidelity-01.png", "context-00.png", "context-01.png" })
                    Assert.True(File.Exists(Path.Combine(output, "images", method, $"task-{task}", concept, image)), $"{method} task {task} {concept} {image}");

        var scores = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "scores.json"))).RootElement;
        // 2 methods × 3 cells × 4 metrics (CLIP-I, DINO-I, CLIP-T, KID-CLIP); each value inside its interval.
        var cells = scores.GetProperty("cells").EnumerateArray().ToList();
        Assert.Equal(24, cells.Count);
        foreach (var cell in cells)
        {
            double value = cell.GetProperty("value").GetDouble();
            var ci = cell.GetProperty("ci95");
            Assert.True(double.IsFinite(value) && ci[0].GetDouble() <= value + 1e-12 && value <= ci[1].GetDouble() + 1e-12, cell.ToString());
        }
        var summaries = scores.GetProperty("summaries").EnumerateArray().ToList();
        Assert.Equal(8, summaries.Count);
        Assert.All(summaries, s => Assert.Equal(JsonValueKind.Object, s.GetProperty("forgetting").ValueKind));
        var tasks = scores.GetProperty("tasks").EnumerateArray().ToList();
        Assert.All(tasks, t => Assert.True(t.GetProperty("trained_parameters").GetInt64() > 0 && t.GetProperty("stored_parameters").GetInt64() > 0));

        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "manifest.json"))).RootElement.GetProperty("methods");
        var images = manifest.GetProperty("lora").GetProperty("images").EnumerateArray().ToList();
        Assert.Equal(12, images.Count);
        Assert.Contains(images, i => i.GetProperty("image").GetProperty("prompt").GetString() == "a photo of <tom> on the beach"
                                     && i.GetProperty("image").GetProperty("scoring_prompt").GetString() == "a photo of cat on the beach");

        string csv = File.ReadAllText(Path.Combine(output, "scores.csv"));
        Assert.Contains("forgetting,c-lora,2,,kid-clip,", csv);
        Assert.Contains("cell,lora,2,tom,dino-i,", csv);

        var report = ReportChecks.ParseAndCheckLinks(output);
        var svg = report.Descendants().Where(e => e.Name.LocalName == "svg").ToList();
        Assert.Equal(4, svg.Count);
        Assert.All(svg, chart => Assert.Equal(2, chart.Descendants().Count(e => e.Name.LocalName == "polyline")));
        Assert.Equal(2 * 3, report.Descendants().Count(e => e.Name.LocalName == "img"));
    }

    [Theory]
    [InlineData("--adam-beta1", "1.5")]
    [InlineData("--grad-accum", "0")]
    [InlineData("--max-grad-norm", "-1")]
    public void The_trainer_options_of_train_are_taken_and_a_bad_one_is_named(string option, string value)
    {
        string output = Path.Combine(root.FullName, "eval");
        var (code, _, stderr) = ConsoleRunner.Run("evaluate-sequence", "--model", TinyModel.Folder, "--concepts", Path.Combine(root.FullName, "none.json"),
            "--clip", EvalFixtures.Clip, "--out", output, option, value, "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains($"error: {option}:", stderr);
        Assert.False(Directory.Exists(output));
    }
}
