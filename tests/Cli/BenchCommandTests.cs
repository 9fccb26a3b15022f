using System.Text.Json;
using IlgpuDiffusion.CLora.Benchmarking;
using IlgpuDiffusion.Model.Benchmarking;

namespace IlgpuDiffusion.Tests.Cli;

/// <summary>The <c>bench</c> command on the CPU accelerator with the random tiny model at 16×16 pixels (2×2 latents).</summary>
public sealed class BenchCommandTests
{
    [Fact]
    public void Json_has_every_stage_with_positive_times_and_the_counted_flops()
    {
        var (code, output, error) = ConsoleRunner.Run("bench", "--random", "tiny", "--steps", "1", "--warmup", "0", "--width", "16", "--height", "16",
            "--batch", "1", "--rank", "2", "--json", "--device", "cpu");
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal("random tiny", root.GetProperty("model").GetString());
        Assert.Equal("cpu", root.GetProperty("device_kind").GetString());
        Assert.Equal("f32", root.GetProperty("weights").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("roofline_tflops").ValueKind);
        var config = BenchmarkModel.TinyConfig;
        var expected = new Dictionary<string, double>
        {
            ["text-encode"] = ModelFlops.TextEncoder(config.TextEncoder, 2),
            ["unet-cfg-step"] = ModelFlops.UNetForward(config.UNet, 2, 2, 2),
            ["vae-decode"] = ModelFlops.VaeDecode(config.Vae, 1, 2, 2),
            ["train-step"] = 2 * (ModelFlops.TextEncoder(config.TextEncoder, 1) + ModelFlops.UNetForward(config.UNet, 1, 2, 2)),
        };
        var stages = root.GetProperty("stages").EnumerateArray().ToList();
        Assert.Equal(expected.Keys, stages.Select(s => s.GetProperty("name").GetString()!));
        long weights = root.GetProperty("weight_bytes").GetInt64();
        Assert.True(weights > 0);
        foreach (var stage in stages)
        {
            double ms = stage.GetProperty("median_ms").GetDouble();
            Assert.True(ms > 0, $"{stage}");
            Assert.Single(stage.GetProperty("ms").EnumerateArray());
            Assert.Equal(expected[stage.GetProperty("name").GetString()!] / 1e12, stage.GetProperty("tflop").GetDouble(), 1e-15);
            Assert.Equal(1000 / ms, stage.GetProperty("it_per_s").GetDouble(), 1e-9);
            Assert.True(stage.GetProperty("peak_live_bytes").GetInt64() > weights, $"{stage}");
        }
    }

    [Fact]
    public void A_checkpoint_runs_through_the_same_stages()
    {
        string model = Support.Fixtures.Path("tiny-sd");
        var (code, output, error) = ConsoleRunner.Run("bench", "--model", model, "--steps", "1", "--warmup", "0", "--width", "16", "--height", "16",
            "--rank", "2", "--device", "cpu");
        Assert.True(code == 0, error);
        Assert.Contains($"bench: {Path.GetFullPath(model)}, f32 weights, 16x16, batch 1", output);
        foreach (var stage in new[] { "text-encode", "unet-cfg-step", "vae-decode", "train-step" })
            Assert.Matches($@"(?m)^{stage} +\d+\.\d ", output);
        Assert.Contains("peak device memory", output);
    }

    [Theory]
    [InlineData("--random huge", "--random 'huge': expected sd15 or tiny")]
    [InlineData("--random tiny --width 20", "--width 20 must be a positive multiple of 8")]
    [InlineData("--random tiny --steps 0", "--steps 0 must be at least 1")]
    [InlineData("--random tiny --model somewhere", "either --model PATH or --random")]
    [InlineData("--random tiny --weights f64", "--weights 'f64': expected f32 or f16")]
    [InlineData("--random sd15", "a full-size model on the CPU accelerator")]
    [InlineData("--model /nonexistent/model", "no such file or folder")]
    public void Bad_options_are_clear_errors(string arguments, string message)
    {
        var (code, _, error) = ConsoleRunner.Run(["bench", .. arguments.Split(' '), "--device", "cpu"]);
        Assert.Equal(1, code);
        Assert.Contains(message, error);
    }
}
