using System.Diagnostics;
using System.Globalization;
using IlgpuDiffusion.CLora.Training;

namespace IlgpuDiffusion.Cli.Train;

/// <summary>
/// The training progress as one line on stderr, redrawn with '\r' after each step: a bar, the step, the loss and its
/// terms (the class term only with prior preservation), the learning rate and it/s. Notes go on lines of their own.
/// </summary>
internal sealed class TrainProgressBar(TextWriter writer, int steps)
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private int? firstStep;
    private bool midLine;

    public void Report(TrainingProgress p)
    {
        firstStep ??= p.Step - 1;
        int filled = (int)Math.Round(20.0 * p.Step / steps);
        double rate = (p.Step - firstStep.Value) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        string prior = p.ClassMse != 0 ? string.Create(CultureInfo.InvariantCulture, $"  class {p.ClassMse:G5}") : "";
        writer.Write(string.Create(CultureInfo.InvariantCulture,
            $"\r[{new string('#', filled)}{new string('.', 20 - filled)}] step {p.Step}/{steps}  loss {p.Loss:G5}  mse {p.Mse:G5}  reg {p.Regularizer:G5}" +
            $"{prior}  lr {p.LearningRate:G3}  {rate:F2} it/s"));
        midLine = p.Step < steps;
        if (!midLine) writer.WriteLine();
        writer.Flush();
    }

    public void Note(string text)
    {
        if (midLine) writer.WriteLine();
        midLine = false;
        writer.WriteLine(text);
    }
}
