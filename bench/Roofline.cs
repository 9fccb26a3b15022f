using System.Collections.Concurrent;
using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Bench;

/// <summary>
/// Achieved throughput beside the device's peaks: what each benchmark method computes, recorded by its class's
/// setup (<see cref="DeviceBenchmark"/>), and read back by the columns of <see cref="RooflineConfig"/> when the
/// summary is printed, which works because the toolchain runs benchmarks in-process.
/// </summary>
public static class Roofline
{
    private static readonly ConcurrentDictionary<(Type, string), Workload> workloads = new();
    private static readonly ConcurrentDictionary<(Type, string), long> peakMemory = new();

    /// <summary>One benchmark method's work per call and the peaks of the device it ran on.</summary>
    /// <param name="Shape">The benchmarked shape, as shown.</param>
    /// <param name="Flops">Floating-point operations per call; 0 when not counted (a memory-bound op).</param>
    /// <param name="Bytes">Minimal bytes read and written per call; 0 when not counted.</param>
    /// <param name="Peak">The peaks of the device it ran on.</param>
    public sealed record Workload(string Shape, double Flops, double Bytes, DevicePeak Peak)
    {
        /// <summary>
        /// Whether the roofline bounds this op by compute: its arithmetic intensity (flops per byte) reaches the
        /// device's ridge point, fp32 peak / bandwidth (always when bytes are not counted, never when flops are not).
        /// </summary>
        public bool ComputeBound(double fp32TFlops, double bandwidthTBs) =>
            Flops > 0 && (Bytes <= 0 || Flops / Bytes >= fp32TFlops / bandwidthTBs);
    }

    /// <summary>
    /// Records the workload of benchmark method <paramref name="method"/> of the class that <paramref name="type"/>
    /// is or derives from (the in-process toolchain may run a generated subclass).
    /// </summary>
    public static void Record(Type type, string method, string shape, double flops, double bytes, Device device) =>
        workloads[Key(type, method)] = new Workload(shape, flops, bytes, DevicePeak.Of(device));

    /// <summary>Records the device's peak reserved bytes during the run of <paramref name="method"/>.</summary>
    public static void RecordPeakMemory(Type type, string method, long bytes) => peakMemory[Key(type, method)] = bytes;

    internal static Workload? Find(BenchmarkCase benchmark) => workloads.GetValueOrDefault(Key(benchmark));

    internal static long? PeakMemory(BenchmarkCase benchmark) =>
        peakMemory.TryGetValue(Key(benchmark), out long bytes) ? bytes : null;

    private static (Type, string) Key(BenchmarkCase benchmark)
    {
        var method = benchmark.Descriptor.WorkloadMethod;
        return (method.DeclaringType!, method.Name);
    }

    private static (Type, string) Key(Type type, string method) =>
        (type.GetMethod(method)?.DeclaringType ?? throw new ArgumentException($"{type} has no public method {method}."), method);
}

/// <summary>
/// The summary columns of <see cref="Roofline"/>: Shape, GFLOP/s, GB/s, % peak, the device's fp32, fp16 tensor-core
/// and bandwidth peaks, and the peak device memory. <see cref="DeviceBenchmark"/> attaches it to every benchmark.
/// </summary>
public sealed class RooflineConfig : ManualConfig
{
    public RooflineConfig()
    {
        AddColumn(
            new RooflineColumn("Shape", "the benchmarked shape", (w, _) => w.Shape, numeric: false),
            new RooflineColumn("GFLOP/s", "floating-point operations per call / mean time (- when not counted)",
                (w, ns) => w.Flops > 0 ? Format(w.Flops / ns) : "-"),
            new RooflineColumn("GB/s", "minimal bytes read and written per call / mean time (- when not counted)",
                (w, ns) => w.Bytes > 0 ? Format(w.Bytes / ns) : "-"),
            new RooflineColumn("% peak", "share of the roofline's bound: GFLOP/s of the fp32 peak for a compute-bound op "
                + "(flops per byte at or above fp32 peak / bandwidth), else GB/s of the memory bandwidth", PercentOfPeak,
                numeric: false),
            new RooflineColumn("fp32 peak", "the device's dense fp32 (non-tensor) datasheet peak",
                (w, _) => w.Peak.Fp32TFlops is { } p ? $"{Format(p)} TFLOP/s" : "n/a", numeric: false),
            new RooflineColumn("fp16 TC peak", "the device's dense fp16 tensor-core datasheet peak",
                (w, _) => w.Peak.Fp16TensorTFlops is { } p ? $"{Format(p)} TFLOP/s" : "n/a", numeric: false),
            new RooflineColumn("BW peak", "the device's memory bandwidth (datasheet)",
                (w, _) => w.Peak.BandwidthTBs is { } p ? $"{Format(p)} TB/s" : "n/a", numeric: false),
            new RooflineColumn("Peak mem", "the device's peak reserved memory during the benchmark (operands included)",
                (_, _, b) => b is { } bytes ? $"{Format(bytes / 1048576.0)} MiB" : "?", numeric: false));
    }

    private static string PercentOfPeak(Roofline.Workload w, double ns)
    {
        if (w.Peak is not { Fp32TFlops: { } fp32, BandwidthTBs: { } bandwidth }) return "n/a";
        return w.ComputeBound(fp32, bandwidth)
            ? $"{Format(100 * w.Flops / ns / (fp32 * 1000))}% fp32"
            : $"{Format(100 * w.Bytes / ns / (bandwidth * 1000))}% BW";
    }

    private static string Format(double value) => value.ToString("G4", CultureInfo.InvariantCulture);
}

/// <summary>One column computed from a benchmark's <see cref="Roofline.Workload"/>, its mean time in ns and its peak device memory.</summary>
internal sealed class RooflineColumn(
    string name, string legend, Func<Roofline.Workload, double, long?, string> value, bool numeric = true) : IColumn
{
    public RooflineColumn(string name, string legend, Func<Roofline.Workload, double, string> value, bool numeric = true)
        : this(name, legend, (w, ns, _) => value(w, ns), numeric)
    {
    }

    public string Id => nameof(RooflineColumn) + "." + name;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => numeric;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var workload = Roofline.Find(benchmarkCase);
        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        return workload is null || mean is not > 0 ? "?" : value(workload, mean.Value, Roofline.PeakMemory(benchmarkCase));
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;
}
