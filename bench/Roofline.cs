using System.Collections.Concurrent;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Bench;

/// <summary>
/// Achieved throughput beside the hardware's peak. A benchmark class records its workload (FLOPs per invocation,
/// shape, device) in its <c>[GlobalSetup]</c> with <see cref="Record{TBenchmark}"/>; the columns of <see cref="RooflineConfig"/>
/// read it back when the summary is printed, which works because the toolchain runs benchmarks in-process.
/// </summary>
public static class Roofline
{
    private static readonly ConcurrentDictionary<Type, Workload> workloads = new();

    /// <summary>Datasheet peaks in TFLOP/s (dense): fp32 without tensor cores, fp16 on tensor cores.</summary>
    private static readonly (string NameContains, double Fp32, double Fp16Tensor)[] peaks =
    [
        ("H100 PCIe", 51, 756),
        ("H100", 67, 989),   // SXM
        ("H200", 67, 989),
    ];

    /// <summary>One benchmark class's workload: what it computes and where.</summary>
    public sealed record Workload(double Flops, string Shape, string DeviceName, double? PeakFp32TFlops, double? PeakFp16TensorTFlops);

    /// <summary>
    /// Records the workload of benchmark class <typeparamref name="TBenchmark"/> (named explicitly: the in-process
    /// toolchain runs a generated subclass); every method of the class does <paramref name="flops"/>.
    /// </summary>
    public static void Record<TBenchmark>(Device device, double flops, string shape)
    {
        var peak = device.IsCpu ? default : peaks.FirstOrDefault(p => device.Name.Contains(p.NameContains, StringComparison.OrdinalIgnoreCase));
        workloads[typeof(TBenchmark)] = new Workload(flops, shape, device.Name,
            peak.NameContains is null ? null : peak.Fp32, peak.NameContains is null ? null : peak.Fp16Tensor);
    }

    internal static Workload? Find(BenchmarkCase benchmark) => workloads.GetValueOrDefault(benchmark.Descriptor.Type);
}

/// <summary>Adds the shape, GFLOP/s and peak columns of <see cref="Roofline"/> to the default configuration.</summary>
public sealed class RooflineConfig : ManualConfig
{
    public RooflineConfig()
    {
        AddColumn(
            new RooflineColumn("Shape", "the benchmarked shape", (w, _) => w.Shape, numeric: false),
            new RooflineColumn("GFLOP/s", "FLOPs per invocation / mean time", (w, ns) => (w.Flops / ns).ToString("G4")),
            new RooflineColumn("fp32 peak", "the device's fp32 (non-tensor) datasheet peak", (w, _) => Tflops(w.PeakFp32TFlops)),
            new RooflineColumn("% fp32 peak", "GFLOP/s as a share of the fp32 peak",
                (w, ns) => w.PeakFp32TFlops is { } p ? (100 * w.Flops / ns / (p * 1000)).ToString("G3") : "n/a"),
            new RooflineColumn("fp16 TC peak", "the device's fp16 tensor-core datasheet peak (dense)", (w, _) => Tflops(w.PeakFp16TensorTFlops)));
    }

    private static string Tflops(double? peak) => peak is { } p ? $"{p} TFLOP/s" : "n/a";
}

/// <summary>One column computed from a benchmark's <see cref="Roofline.Workload"/> and its mean time in ns.</summary>
internal sealed class RooflineColumn(string name, string legend, Func<Roofline.Workload, double, string> value, bool numeric = true) : IColumn
{
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
        return workload is null || mean is null ? "?" : value(workload, mean.Value);
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;
}
