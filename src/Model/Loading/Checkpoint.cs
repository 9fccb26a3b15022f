using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Model.Text;

namespace IlgpuDiffusion.Model.Loading;

/// <summary>
/// An opened SD 1.x checkpoint: its <see cref="Config"/>, one <see cref="WeightSet"/> per network under diffusers
/// names, and where its tokenizer is. It owns the memory-mapped files: keep it open while models take their weights,
/// then dispose it (taken tensors live on).
/// </summary>
public sealed class Checkpoint : IDisposable
{
    private readonly IReadOnlyList<SafeTensorsReader> files;

    internal Checkpoint(ModelSource source, CheckpointLayout layout, StableDiffusionConfig config, IReadOnlyList<SafeTensorsReader> files,
        WeightSet unet, WeightSet vae, WeightSet textEncoder, string? tokenizerFolder, IReadOnlyList<string> ignored, IReadOnlyList<string> unrecognized)
    {
        Source = source;
        Layout = layout;
        Config = config;
        this.files = files;
        UNet = unet;
        Vae = vae;
        TextEncoder = textEncoder;
        TokenizerFolder = tokenizerFolder;
        Ignored = ignored;
        Unrecognized = unrecognized;
    }

    public ModelSource Source { get; }

    public CheckpointLayout Layout { get; }

    public StableDiffusionConfig Config { get; }

    public WeightSet UNet { get; }

    public WeightSet Vae { get; }

    public WeightSet TextEncoder { get; }

    /// <summary>The folder with vocab.json and merges.txt, or null when neither the model nor the options give one.</summary>
    public string? TokenizerFolder { get; }

    /// <summary>Known non-model tensors of a single file that were skipped (EMA copy, noise schedule…).</summary>
    public IReadOnlyList<string> Ignored { get; }

    /// <summary>Tensors of a single file that belong to no network and no known extra; reported by <see cref="Reports"/>.</summary>
    public IReadOnlyList<string> Unrecognized { get; }

    /// <summary>The safetensors files the weights are read from.</summary>
    public IReadOnlyList<string> Files => [.. files.Select(f => f.Path)];

    /// <summary>Loads the CLIP tokenizer; throws a <see cref="CheckpointException"/> saying how to give one when there is none.</summary>
    public ClipTokenizer LoadTokenizer() => TokenizerFolder is { } folder
        ? ClipTokenizer.FromFolder(folder)
        : throw new CheckpointException(Path.GetFullPath(Source.ModelPath), Layout == CheckpointLayout.SingleFile
            ? "a single-file checkpoint holds no tokenizer: give --tokenizer DIR (a folder with vocab.json and merges.txt, " +
              "such as a diffusers model's tokenizer/) or --config DIR with a tokenizer/ subfolder"
            : "the diffusers folder has no tokenizer/ subfolder: give --tokenizer DIR (a folder with vocab.json and merges.txt)");

    /// <summary>The weight reports of the three networks, and of the unrecognized tensors when there are any.</summary>
    public IReadOnlyList<WeightReport> Reports()
    {
        List<WeightReport> reports = [UNet.Report(), Vae.Report(), TextEncoder.Report()];
        if (Unrecognized.Count > 0) reports.Add(new WeightReport("checkpoint", [], Unrecognized, []));
        return reports;
    }

    /// <summary>
    /// Call after the models took their weights: throws one <see cref="WeightsMismatchException"/> listing every
    /// missing and wrong-shaped tensor and, unless <paramref name="allowUnexpected"/>, every unused one.
    /// </summary>
    public void Complete(bool allowUnexpected = false)
    {
        var problems = Reports().Where(r => !r.Passes(allowUnexpected)).ToList();
        if (problems.Count > 0) throw new WeightsMismatchException(problems);
    }

    public void Dispose()
    {
        foreach (var file in files) file.Dispose();
    }
}
