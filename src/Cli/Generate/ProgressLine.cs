using System.Globalization;
using IlgpuDiffusion.Model.Pipelines;

namespace IlgpuDiffusion.Cli.Generate;

/// <summary>The denoising progress as one line on stderr, redrawn with '\r' after each step: batch, step, it/s.</summary>
internal sealed class ProgressLine(TextWriter writer)
{
    public void Report(DenoisingProgress progress)
    {
        var batch = progress.Batches > 1 ? $"batch {progress.Batch}/{progress.Batches} " : "";
        int filled = (int)Math.Round(20.0 * progress.Step / progress.Total);
        writer.Write(string.Create(CultureInfo.InvariantCulture, $"\r{batch}[{new string('#', filled)}{new string('.', 20 - filled)}] step {progress.Step}/{progress.Total} " +
                     $"{progress.StepsPerSecond:F2} it/s"));
        if (progress.Step == progress.Total) writer.WriteLine();
        writer.Flush();
    }
}
