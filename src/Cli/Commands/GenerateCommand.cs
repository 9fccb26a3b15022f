using System.CommandLine;
using System.Globalization;
using IlgpuDiffusion.Cli.Generate;
using IlgpuDiffusion.Model.Images;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Pipelines;

namespace IlgpuDiffusion.Cli.Commands;

/// <summary>
/// <c>generate --model PATH --prompt P [options]</c>: text-to-image (or image-to-image with <c>--init-image</c>) through
/// <see cref="StableDiffusionPipeline"/>, writing PNGs with A1111 parameters, a progress line on stderr and a summary
/// of the time and device memory spent. A full-size model on the CPU accelerator is refused without <c>--force</c>,
/// with an estimate of how long it would take (checked before any weight is loaded). <c>--library</c>, <c>--lora</c> and
/// <c>--embedding</c> customise the loaded model first (<see cref="CustomizationOptions"/>).
/// </summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var modelOptions = new ModelOptions();
        var options = new GenerateOptions();
        var customization = new CustomizationOptions();
        var output = new Option<string>("--output")
        {
            HelpName = "FILE",
            Description = "The PNG to write; with several images NAME-0001.png, NAME-0002.png, … beside it.",
            DefaultValueFactory = _ => "output.png",
        };
        var outputLatents = new Option<string?>("--output-latents")
        {
            HelpName = "FILE",
            Description = "Also write the final latents [N, 4, h, w] (before the VAE) to this safetensors file as 'latents'.",
        };
        var force = new Option<bool>("--force") { Description = "Run a full-size model on the CPU accelerator even though it takes days." };
        var device = CommonOptions.Device();
        var command = new Command("generate", "Make images from a prompt (text-to-image, or image-to-image with --init-image).");
        modelOptions.AddTo(command);
        options.AddTo(command);
        customization.AddTo(command);
        foreach (Option option in new Option[] { output, outputLatents, device, force }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var request = options.Request(parse);
            var source = modelOptions.Source(parse);
            var extras = customization.Read(parse, source.ModelPath, request);
            using var opened = CommonOptions.OpenDevice(parse.GetValue(device));
            using var checkpoint = CheckpointLoader.Open(source, opened);
            var plan = GenerationPlan.For(checkpoint.Config, request);
            if (opened.IsCpu && plan.IsFullSizeModel) RefuseOrWarn(plan, parse.GetValue(force));
            using var pipeline = StableDiffusionPipeline.Load(checkpoint, parse.GetValue(options.Vae));
            using var custom = extras?.Apply(pipeline, Console.Error);
            var result = pipeline.Generate(request, new ProgressLine(Console.Error).Report);
            Save(result, parse.GetValue(output)!, parse.GetValue(outputLatents));
            PrintSummary(result);
            return 0;
        });
        return command;
    }

    /// <summary>Refuses a full-size model on the CPU accelerator (an error with the estimate), or with --force only warns.</summary>
    private static void RefuseOrWarn(GenerationPlan plan, bool force)
    {
        var estimate = string.Create(CultureInfo.InvariantCulture,
            $"a full-size model on the CPU accelerator: {plan.Images} image(s) × {plan.DenoisingSteps} denoising steps of {plan.LatentWidth}x{plan.LatentHeight} latents" +
            $"{(plan.Guided ? " with guidance (2 UNet samples per step)" : "")} ≈ {plan.UNetTeraFlops:F1} TFLOP of UNet work, an estimated " +
            $"{Duration(plan.EstimatedCpuTime)} at ~{GenerationPlan.CpuAcceleratorFlopsPerSecond / 1e9:F1} GFLOP/s");
        if (!force) throw new InvalidOperationException($"{estimate}. Run it on a GPU (--device cuda), or pass --force to start anyway.");
        Console.Error.WriteLine($"warning: {estimate}; starting anyway (--force).");
    }

    private static string Duration(TimeSpan time) => time.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{time.TotalHours:F1} hours")
        : string.Create(CultureInfo.InvariantCulture, $"{time.TotalMinutes:F1} minutes");

    /// <summary>Writes the PNGs (NAME-0001.png … when there are several) and the latents, each atomically.</summary>
    private static void Save(TextToImageResult result, string output, string? latentsPath)
    {
        for (int i = 0; i < result.Images.Count; i++)
        {
            var image = result.Images[i];
            var path = result.Images.Count == 1 ? output : Numbered(output, i + 1);
            PngWriter.Save(path, image.Image, image.Parameters);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {Path.GetFullPath(path)} ({image.Image.Width}x{image.Image.Height}, seed {image.Seed})"));
        }
        if (latentsPath is null) return;
        LatentFile.Write(latentsPath, result.Latents);
        Console.WriteLine($"wrote {Path.GetFullPath(latentsPath)}: latents {result.Latents}");
    }

    /// <summary>dir/NAME.png → dir/NAME-0007.png.</summary>
    private static string Numbered(string output, int number) => Path.Combine(Path.GetDirectoryName(output) ?? "",
        string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileNameWithoutExtension(output)}-{number:D4}{Path.GetExtension(output)}"));

    private static void PrintSummary(TextToImageResult result)
    {
        var t = result.Timings;
        var encoding = t.ImageEncoding > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $", image encoding {t.ImageEncoding.TotalSeconds:F2} s") : "";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"text encoding {t.TextEncoding.TotalSeconds:F2} s{encoding}, denoising {t.Denoising.TotalSeconds:F2} s, decoding {t.Decoding.TotalSeconds:F2} s; " +
            $"peak device memory {result.PeakDeviceBytes / (1024.0 * 1024.0):F1} MiB"));
    }
}
