using IlgpuDiffusion.Model.Images;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Pipelines;
using IlgpuDiffusion.Model.Vae;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Cli;

/// <summary><c>generate --low-memory / --vae-tiling / --vae-tile-size</c> on the tiny fixture model: the same image as the library's low-memory mode, the memory summary, and bad tile sizes.</summary>
public sealed class GenerateMemoryFlagsTests(ITestOutputHelper output) : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("idf-generate-memory-");

    public void Dispose() => folder.Delete(recursive: true);

    [Fact]
    public void Low_memory_with_small_vae_tiles_makes_the_library_s_low_memory_image_and_prints_peak_live_and_reserved_memory()
    {
        var png = Path.Combine(folder.FullName, "house.png");
        var (code, stdout, stderr) = ConsoleRunner.Run("generate", "--model", TinyModel.Folder, "--device", "cpu", "--prompt", "a red house",
            "--scheduler", "euler", "--steps", "1", "--guidance", "1", "--width", "40", "--height", "40", "--seed", "9",
            "--low-memory", "--vae-tile-size", "32", "--output", png);
        output.WriteLine(stdout);
        Assert.True(code == 0, stderr);
        Assert.Matches(@"peak device memory \d+\.\d MiB live, \d+\.\d MiB reserved", stdout);

        using var pipeline = StableDiffusionPipeline.Load(new ModelSource(TinyModel.Folder), Devices.Portable);
        pipeline.Memory = new MemoryOptions { ReleaseTextEncoder = true, VaeTiling = new VaeTiling(4) };
        var expected = pipeline.Generate(new TextToImageRequest
        {
            Prompt = "a red house", Scheduler = "euler", Steps = 1, Guidance = 1, Width = 40, Height = 40, Seed = 9,
        }).Images[0].Image;
        var written = ImageFile.Read(png);
        Assert.Equal((40, 40), (written.Width, written.Height));
        int worst = written.Pixels.ToArray().Zip(expected.Pixels.ToArray(), (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 1, $"the console's low-memory image differs from the library's by {worst} levels");
    }

    [Theory]
    [InlineData("36", "a VAE tile size must be a positive multiple of 8 pixels")]
    [InlineData("40", "stride of 3.75 latents")]
    public void A_bad_vae_tile_size_is_a_clear_error(string size, string message)
    {
        var png = Path.Combine(folder.FullName, "x.png");
        var (code, _, stderr) = ConsoleRunner.Run("generate", "--model", TinyModel.Folder, "--device", "cpu", "--prompt", "x", "--steps", "1",
            "--vae-tile-size", size, "--output", png);
        Assert.Equal(1, code);
        Assert.Contains($"error: --vae-tile-size {size}: ", stderr);
        Assert.Contains(message, stderr);
        Assert.False(File.Exists(png));
    }
}
