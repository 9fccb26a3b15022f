using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using IlgpuDiffusion.Evaluation.Extractors;
using IlgpuDiffusion.Evaluation.Scoring;

namespace IlgpuDiffusion.Cli.Commands;

/// <summary>
/// <c>metrics --real DIR --generated DIR --clip PATH [--dino PATH] [--prompt P] [--json]</c>: scores two image folders
/// with <see cref="FolderMetrics"/> (CLIP-I, DINO-I, CLIP-T, KID-CLIP and MMD²-CLIP, each with a 95% bootstrap interval)
/// and prints a table, or JSON with raw (unscaled) values.
/// </summary>
internal static class MetricsCommand
{
    public static Command Create()
    {
        var real = new Option<string>("--real") { HelpName = "DIR", Description = "The real images (PNG/JPEG, at least 2).", Required = true };
        var generated = new Option<string>("--generated") { HelpName = "DIR", Description = "The generated images (PNG/JPEG, at least 2).", Required = true };
        var clip = new Option<string>("--clip") { HelpName = "PATH", Description = "A Hugging Face CLIP folder (e.g. openai/clip-vit-base-patch32).", Required = true };
        var dino = new Option<string?>("--dino") { HelpName = "PATH", Description = "A Hugging Face DINO ViT folder (e.g. facebook/dino-vits16) for DINO-I." };
        var prompt = new Option<string?>("--prompt") { HelpName = "P", Description = "Score CLIP-T of every generated image against this prompt." };
        var json = new Option<bool>("--json") { Description = "Print JSON (raw values; KID and MMD² not scaled by 10³)." };
        var device = CommonOptions.Device();
        var command = new Command("metrics", "Score a folder of generated images against real ones (CLIP-I, DINO-I, CLIP-T, KID-CLIP, MMD²).")
        {
            real, generated, clip, dino, prompt, json, device,
        };
        command.SetAction(parse =>
        {
            using var opened = CommonOptions.OpenDevice(parse.GetValue(device));
            using var clipModel = ClipModel.Load(parse.GetValue(clip)!, opened);
            using var dinoModel = parse.GetValue(dino) is { } dinoPath ? DinoModel.Load(dinoPath, opened) : null;
            var results = FolderMetrics.Score(parse.GetValue(real)!, parse.GetValue(generated)!, FeatureExtractors.Of(clipModel, dinoModel), parse.GetValue(prompt));
            Console.WriteLine(parse.GetValue(json) ? Json(results) : Table(results));
            return 0;
        });
        return command;
    }

    private static string Json(IReadOnlyList<MetricResult> results) => JsonSerializer.Serialize(
        results.ToDictionary(r => r.Metric.Name, r => new { value = r.Value, ci95 = new[] { r.Interval.Lower, r.Interval.Upper } }),
        new JsonSerializerOptions { WriteIndented = true });

    private static string Table(IReadOnlyList<MetricResult> results) => string.Join(Environment.NewLine, results.Select(r =>
    {
        double s = r.Metric.ReportScale;
        return string.Create(CultureInfo.InvariantCulture,
            $"{r.Metric.Label,-16}{r.Value * s,12:F5}   95% CI [{r.Interval.Lower * s:F5}, {r.Interval.Upper * s:F5}]");
    }));
}
