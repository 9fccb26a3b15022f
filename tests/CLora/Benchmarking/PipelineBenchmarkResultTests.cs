using System.Text.Json;
using IlgpuDiffusion.CLora.Benchmarking;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Tests.CLora.Benchmarking;

/// <summary>The figures derived from a benchmark's measurements (median, it/s, TFLOP/s, roofline share, peaks) and their JSON.</summary>
public sealed class PipelineBenchmarkResultTests
{
    private static readonly BenchmarkStage Unet = new("unet-cfg-step", "UNet", 1.6e12, [30.0, 10.0, 20.0, 100.0], 5_000, 7_000, 9_000);
    private static readonly BenchmarkStage Vae = new("vae-decode", "VAE", 2.5e12, [50.0, 40.0, 45.0], 6_000, 6_500, 8_000);

    [Fact]
    public void Stage_figures_come_from_the_median()
    {
        Assert.Equal(25.0, Unet.MedianMilliseconds);   // even count: the mean of the middle two
        Assert.Equal(45.0, Vae.MedianMilliseconds);
        Assert.Equal(40.0, Unet.IterationsPerSecond, 12);
        Assert.Equal(1.6e12 / 0.025 / 1e12, Unet.TeraFlopsPerSecond, 12);
    }

    [Fact]
    public void Roofline_share_and_peaks_and_json()
    {
        var result = Result(67);
        Assert.Equal(64.0 / 67, result.RooflineFraction(Unet)!.Value, 12);
        Assert.Equal((6_000L, 7_000L, 9_000L), (result.PeakLiveBytes, result.PeakReservedBytes, result.DriverUsedBytes));
        Assert.Null(Result(null).RooflineFraction(Unet));

        using var json = JsonDocument.Parse(result.ToJson());
        var root = json.RootElement;
        Assert.Equal("NVIDIA H100 80GB HBM3", root.GetProperty("device").GetString());
        Assert.Equal("f16", root.GetProperty("weights").GetString());
        Assert.Equal("abc1234", root.GetProperty("commit").GetString());
        Assert.Equal(9_000, root.GetProperty("driver_used_bytes").GetInt64());
        var unet = root.GetProperty("stages")[0];
        Assert.Equal(25.0, unet.GetProperty("median_ms").GetDouble());
        Assert.Equal(1.6, unet.GetProperty("tflop").GetDouble(), 12);
        Assert.Equal(64.0 / 67, unet.GetProperty("roofline_fraction").GetDouble(), 12);
        Assert.Equal([30.0, 10.0, 20.0, 100.0], unet.GetProperty("ms").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(Result(null).ToJson()).RootElement.GetProperty("stages")[1].GetProperty("roofline_fraction").ValueKind);
    }

    private static PipelineBenchmarkResult Result(double? peak) => new("NVIDIA H100 80GB HBM3", DeviceKind.Cuda, "random sd15", DType.F16, 512, 512, 1, 1, 4,
        1_000, peak, "fp32 peak", [Unet, Vae], new DateTimeOffset(2026, 11, 25, 22, 0, 0, TimeSpan.Zero), "abc1234");
}
