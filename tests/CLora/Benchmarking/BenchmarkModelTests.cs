using System.Text.Json;
using IlgpuDiffusion.CLora.Benchmarking;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.CLora.Benchmarking;

/// <summary>The benchmark's built-in model shapes.</summary>
public sealed class BenchmarkModelTests
{
    [Fact]
    public void The_tiny_config_is_the_fixture_model()
    {
        var fixture = StableDiffusionConfig.FromFolder(Fixtures.Path("tiny-sd"));
        var tiny = BenchmarkModel.TinyConfig;
        Assert.Equal(JsonSerializer.Serialize(fixture.UNet), JsonSerializer.Serialize(tiny.UNet));
        Assert.Equal(JsonSerializer.Serialize(fixture.Vae), JsonSerializer.Serialize(tiny.Vae));
        Assert.Equal(JsonSerializer.Serialize(fixture.TextEncoder), JsonSerializer.Serialize(tiny.TextEncoder));
    }

    [Fact]
    public void Random_configs_are_named_sd15_and_tiny()
    {
        Assert.Same(StableDiffusionConfig.StableDiffusion15, BenchmarkModel.RandomConfig("SD15"));
        Assert.Same(BenchmarkModel.TinyConfig, BenchmarkModel.RandomConfig("tiny"));
        Assert.Contains("expected sd15 or tiny", Assert.Throws<ArgumentException>(() => BenchmarkModel.RandomConfig("sdxl")).Message);
    }

    [Fact]
    public void A_model_that_ran_a_benchmark_is_refused_a_second_one()
    {
        using var model = BenchmarkModel.Random("tiny", BenchmarkModel.TinyConfig, Devices.Portable, DType.F32);
        model.Tokenizer.AddToken("<bench-concept>"); // what the first run's training stage leaves behind
        var e = Assert.Throws<InvalidOperationException>(() => PipelineBenchmark.Run(model, new PipelineBenchmarkOptions()));
        Assert.Contains("ran a benchmark already", e.Message);
    }
}
