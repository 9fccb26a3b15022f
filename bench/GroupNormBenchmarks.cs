using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Bench;

/// <summary>
/// Group norm (32 groups, eps 1e-6 as in SD's resnets) forward, forward with fused SiLU, and backward on the default
/// device: [2, 64, 64, 320] (an SD1.5 UNet block at 512²) on a GPU; on the CPU accelerator a tiny [1, 8, 8, 64] with
/// a short job, since it only shows that the benchmark runs. The GB/s column is the op's minimal traffic
/// (forward: x read, y written; backward: dy and x read, dx written; γ, β, statistics and dγ, dβ included)
/// over the mean time: compare it with the device's memory bandwidth.
/// </summary>
[Config(typeof(BenchConfig))]
public class GroupNormBenchmarks
{
    private const int Groups = 32;
    private const float Eps = 1e-6f;

    // BenchmarkDotNet runs in-process: the config and every benchmark share this device.
    private static readonly Lazy<Device> device = new(() => Device.Open());
    private static readonly Dictionary<string, long> bytesByMethod = [];
    private static string shape = "";

    private Tensor? x, gamma, beta, dy;
    private NormOutput? saved;

    [GlobalSetup]
    public void Setup()
    {
        var d = device.Value;
        int[] dims = d.IsCpu ? [1, 8, 8, 64] : [2, 64, 64, 320];
        int count = dims.Aggregate(1, (a, b) => a * b), c = dims[^1];
        shape = $"[{string.Join(", ", dims)}]";
        x = Tensor.FromHost(d, Enumerable.Range(0, count).Select(i => 0.5f + (i % 97) * 0.03f).ToArray(), dims);
        dy = Tensor.FromHost(d, Enumerable.Range(0, count).Select(i => (i % 89) * 0.01f - 0.4f).ToArray(), dims);
        gamma = Tensor.FromHost(d, Enumerable.Range(0, c).Select(i => 1f + i * 1e-3f).ToArray(), c);
        beta = Tensor.FromHost(d, Enumerable.Range(0, c).Select(i => i * 1e-3f).ToArray(), c);
        saved = GroupNorm.Forward(x, gamma, beta, Groups, Eps);
        long elements = 4L * count, affine = 4L * 2 * c, stats = 4L * 2 * dims[0] * Groups;
        bytesByMethod[nameof(Forward)] = bytesByMethod[nameof(ForwardSilu)] = 2 * elements + affine + stats;
        bytesByMethod[nameof(Backward)] = 3 * elements + 2 * affine + stats;
        d.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        saved?.Dispose();
        foreach (var t in new[] { x, gamma, beta, dy }) t?.Dispose();
    }

    [Benchmark]
    public void Forward() => Run(() => GroupNorm.Forward(x!, gamma!, beta!, Groups, Eps));

    [Benchmark]
    public void ForwardSilu() => Run(() => GroupNorm.Forward(x!, gamma!, beta!, Groups, Eps, silu: true));

    [Benchmark]
    public void Backward() =>
        Run(() => GroupNorm.Backward(dy!, x!, gamma!, beta!, saved!.Mean, saved.Rstd, Groups));

    private static void Run(Func<IDisposable> op)
    {
        using var result = op();
        device.Value.Synchronize();
    }

    /// <summary>The job and the Shape and GB/s columns; a short job when the default device is the CPU accelerator.</summary>
    private sealed class BenchConfig : ManualConfig
    {
        public BenchConfig()
        {
            AddColumn(
                new WorkloadColumn("Shape", "the group norm's input [N, H, W, C]", false, (_, _) => shape),
                new WorkloadColumn("GB/s", "minimal bytes read and written / mean time", true, Bandwidth));
            if (device.Value.IsCpu)
                AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(3).AsMutator());
        }

        private static string Bandwidth(Summary summary, BenchmarkCase benchmark)
        {
            var mean = summary[benchmark]?.ResultStatistics?.Mean;   // nanoseconds
            return mean is > 0 && bytesByMethod.TryGetValue(benchmark.Descriptor.WorkloadMethod.Name, out long bytes)
                ? (bytes / mean.Value).ToString("G3")
                : "NA";
        }
    }

    /// <summary>A summary column whose value a delegate computes from the run.</summary>
    private sealed class WorkloadColumn(string name, string legend, bool numeric, Func<Summary, BenchmarkCase, string> value) : IColumn
    {
        public string Id => nameof(GroupNormBenchmarks) + "." + name;
        public string ColumnName => name;
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => numeric;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => legend;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => value(summary, benchmarkCase);
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => value(summary, benchmarkCase);
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
    }
}
