using System.Diagnostics;
using BenchmarkDotNet.Configs;
using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace IlgpuDiffusion.Bench;

/// <summary>
/// Kernel microbenchmarks (GEMM, conv2d, attention, group norm) at SD1.5 shapes on the default device
/// (<c>IDF_DEVICE</c>, else the first CUDA GPU, else the CPU accelerator), with GFLOP/s and GB/s beside the
/// device's datasheet peaks and the peak device memory (see <see cref="RooflineConfig"/> and docs/BENCHMARKS.md).
/// <para>
/// Usage: <c>dotnet run -c Release --project bench -- --filter '*' [--short]</c>, or the bundled
/// <c>idf-bench --filter '*Gemm*'</c>; the other arguments are BenchmarkDotNet's (<c>--list flat</c>, <c>--filter</c>, ...).
/// <c>--short</c> (always on for the CPU accelerator) runs small shapes with a short job (1 launch, 1 warmup,
/// 3 iterations of 100 ms): a smoke run that ends within a minute, not a measurement. BenchmarkDotNet runs in-process, so
/// the self-contained bundle runs on a GPU machine that has no .NET SDK. The total wall time is printed last.
/// </para>
/// </summary>
public static class Program
{
    /// <summary>Program's own option: small shapes and a short job.</summary>
    public const string ShortOption = "--short";

    public static int Main(string[] args)
    {
        var stopwatch = Stopwatch.StartNew();
        BenchDevice.ShortRequested = args.Contains(ShortOption);
        args = args.Where(a => a != ShortOption).ToArray();
        try
        {
            var job = Job.Default.WithToolchain(InProcessEmitToolchain.Instance);
            if (BenchDevice.Short)
                job = job.WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(3)
                    .WithIterationTime(TimeInterval.FromMilliseconds(100)).WithId("Short");
            var config = DefaultConfig.Instance
                .AddJob(job)
                .WithOptions(ConfigOptions.DisableOptimizationsValidator);
            var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
            Console.WriteLine($"// {BenchDevice.Instance}{(BenchDevice.Short ? ", short mode" : "")}: " +
                $"total {stopwatch.Elapsed.TotalSeconds:F1} s");
            return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;
        }
        finally
        {
            BenchDevice.Close();
        }
    }
}
