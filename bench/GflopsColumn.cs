using System.Collections.Concurrent;
using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace IlgpuDiffusion.Bench;

/// <summary>
/// A summary column with the throughput of a benchmark, flops / mean time. A benchmark records its flop count in
/// its global setup with <see cref="Record{TBenchmarks}"/> (its shape may depend on the device it opened); this works because
/// Program runs benchmarks in-process. Attach it with <c>[Config(typeof(GflopsConfig))]</c>.
/// </summary>
public sealed class GflopsColumn : IColumn
{
    private static readonly ConcurrentDictionary<(Type, string), double> flops = new();

    /// <summary>
    /// Records that one call of <paramref name="method"/> of <typeparamref name="TBenchmarks"/> does
    /// <paramref name="count"/> flops. Name the class explicitly: the in-process toolchain runs a generated subclass.
    /// </summary>
    public static void Record<TBenchmarks>(string method, double count) => flops[(typeof(TBenchmarks), method)] = count;

    public string Id => nameof(GflopsColumn);
    public string ColumnName => "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Throughput: the flops one call does (recorded by the benchmark's setup) / mean time";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var key = (benchmarkCase.Descriptor.Type, benchmarkCase.Descriptor.WorkloadMethod.Name);
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        return flops.TryGetValue(key, out var count) && meanNs is > 0
            ? (count / meanNs.Value).ToString("0.###", CultureInfo.InvariantCulture)
            : "?";
    }

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;
}

/// <summary>The config that adds <see cref="GflopsColumn"/> to a benchmark class's summary.</summary>
public sealed class GflopsConfig : ManualConfig
{
    public GflopsConfig() => AddColumn(new GflopsColumn());
}
