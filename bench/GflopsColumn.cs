using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace IlgpuDiffusion.Bench;

/// <summary>
/// A summary column with the achieved GFLOP/s: <c>flops(case) / mean time</c>. The FLOP count comes from the
/// benchmark class (its shape may depend on the device it opened), read after the run; the in-process toolchain
/// runs the benchmark in this process, so a value its setup stored is visible here.
/// </summary>
public sealed class GflopsColumn(Func<BenchmarkCase, double> flops) : IColumn
{
    public string Id => nameof(GflopsColumn);

    public string ColumnName => "GFLOP/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Floating-point operations per second achieved, in 1e9 (2 per multiply-add)";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        double count = flops(benchmarkCase);
        return meanNs is > 0 && count > 0 ? (count / meanNs.Value).ToString("F2") : "-";
    }

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;
}
