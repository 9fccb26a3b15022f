namespace IlgpuDiffusion.CLora.Benchmarking;

/// <summary>
/// One measured stage of a <see cref="PipelineBenchmark"/>: its timed runs, its analytic FLOP count per run
/// (<see cref="Model.Benchmarking.ModelFlops"/>), and the device memory it reached (the allocator's peaks since the
/// stage began and, on CUDA, the driver's used memory after it).
/// </summary>
/// <param name="Name">A short id: text-encode, unet-cfg-step, vae-decode or train-step.</param>
/// <param name="Description">What one run does, with its shapes.</param>
/// <param name="Flops">Floating-point operations per run.</param>
/// <param name="Milliseconds">The wall time of each timed run, the device synchronized before and after.</param>
/// <param name="PeakLiveBytes">The allocator's peak of live tensor bytes during the stage.</param>
/// <param name="PeakReservedBytes">The allocator's peak of bytes held from the device (live + cached) during the stage.</param>
/// <param name="DriverUsedBytes">The driver's used device memory after the stage (CUDA only; null on the CPU accelerator).</param>
public sealed record BenchmarkStage(string Name, string Description, double Flops, IReadOnlyList<double> Milliseconds,
    long PeakLiveBytes, long PeakReservedBytes, long? DriverUsedBytes)
{
    /// <summary>The median of <see cref="Milliseconds"/>.</summary>
    public double MedianMilliseconds
    {
        get
        {
            var sorted = Milliseconds.Order().ToArray();
            int middle = sorted.Length / 2;
            return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        }
    }

    /// <summary>Runs per second at the median time.</summary>
    public double IterationsPerSecond => 1000 / MedianMilliseconds;

    /// <summary>Achieved TFLOP/s at the median time.</summary>
    public double TeraFlopsPerSecond => Flops / (MedianMilliseconds / 1000) / 1e12;
}
