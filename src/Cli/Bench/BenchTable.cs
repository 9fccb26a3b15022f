using System.Globalization;
using System.Text;
using IlgpuDiffusion.CLora.Benchmarking;

namespace IlgpuDiffusion.Cli.Bench;

/// <summary>The <c>bench</c> command's table: a header with the device, model and settings, one row per stage, and the peak memory.</summary>
internal static class BenchTable
{
    private const double MiB = 1024.0 * 1024.0;

    public static string Format(PipelineBenchmarkResult result)
    {
        var text = new StringBuilder();
        void Line(params FormattableString[] parts) => text.AppendLine(string.Concat(parts.Select(FormattableString.Invariant)));

        Line($"bench: {result.Model}, {result.Weights.ToString().ToLowerInvariant()} weights, {result.Width}x{result.Height}, batch {result.Batch}, ",
             $"{result.Warmup} warm-up + {result.Repeats} timed runs per stage");
        Line($"device: {result.DeviceKind} '{result.DeviceName}'; roofline: {(result.PeakTeraFlops is { } peak ? $"{peak:G4} TFLOP/s ({result.RooflineName})" : "unknown for this device")}");
        Line($"date: {result.Date:yyyy-MM-dd HH:mm} UTC; commit: {result.Commit ?? "unknown (set IDF_COMMIT)"}");
        Line($"{"stage",-14} {"median ms",12} {"it/s",10} {"GFLOP",12} {"GFLOP/s",12} {"% roofline",10} {"peak live MiB",14} {"peak resv MiB",14}");
        foreach (var stage in result.Stages)
        {
            var fraction = result.RooflineFraction(stage) is { } f ? (100 * f).ToString("F1", CultureInfo.InvariantCulture) : "n/a";
            Line($"{stage.Name,-14} {stage.MedianMilliseconds,12:F1} {stage.IterationsPerSecond,10:F3} {stage.Flops / 1e9,12:F3} ",
                 $"{stage.TeraFlopsPerSecond * 1e3,12:F3} {fraction,10} {stage.PeakLiveBytes / MiB,14:F1} {stage.PeakReservedBytes / MiB,14:F1}");
        }
        var driver = result.DriverUsedBytes is { } used ? $"; driver used {used / MiB:F1} MiB" : "";
        Line($"weights on the device {result.WeightBytes / MiB:F1} MiB; peak device memory {result.PeakLiveBytes / MiB:F1} MiB live, ",
             $"{result.PeakReservedBytes / MiB:F1} MiB reserved (allocator){driver}");
        return text.ToString();
    }
}
