using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Cli;

/// <summary><c>forward --component unet</c> on the UNet fixture: integer timesteps from the reference file itself, and a single float timestep.</summary>
public sealed class UNetForwardCommandTests(ITestOutputHelper output) : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("idf-forward-unet-");

    public void Dispose() => folder.Delete(recursive: true);

    private static string ReferencePath => Fixtures.Path("reference", "unet.safetensors");

    /// <summary>Runs the command on <paramref name="input"/> and returns noise_pred's error against <paramref name="expected"/>.</summary>
    private double Run(string input, string expected)
    {
        var outPath = Path.Combine(folder.FullName, "out.safetensors");
        var (code, stdout, stderr) = ConsoleRunner.Run("forward", "--model", TinyModel.Folder, "--component", "unet",
            "--input", input, "--output", outPath);
        Assert.True(code == 0, stderr);
        Assert.Contains("noise_pred [2, 4, 8, 8]", stdout);
        using var written = SafeTensorsReader.Open(outPath);
        using var reference = SafeTensorsReader.Open(ReferencePath);
        Assert.Equal(["noise_pred"], written.Tensors.Select(t => t.Name));
        return Reference.RelativeError(written.ReadF32("noise_pred"), reference.ReadF32(expected));
    }

    [Fact]
    public void The_reference_file_is_its_own_input()
    {
        double error = Run(ReferencePath, "noise_pred");
        output.WriteLine($"forward unet, timesteps [999, 10]: noise_pred rel error {error:E2}");
        Assert.True(error <= 1e-4, $"noise_pred rel error {error}");
    }

    [Fact]
    public void A_single_float_timestep_serves_the_batch()
    {
        // Schedulers with Karras sigmas give fractional (float) timesteps; case 2's scalar 500 is broadcast as [1].
        using var reference = SafeTensorsReader.Open(ReferencePath);
        var input = Path.Combine(folder.FullName, "in.safetensors");
        new SafeTensorsWriter()
            .Add("sample", reference.ReadF32("sample"), [2, 4, 8, 8])
            .Add("timesteps", new[] { 500f }, [1])
            .Add("encoder_hidden_states", reference.ReadF32("case2_encoder_hidden_states"), [2, 77, 32])
            .Save(input);
        double error = Run(input, "case2_noise_pred");
        output.WriteLine($"forward unet, F32 timestep [500.0]: noise_pred rel error {error:E2}");
        Assert.True(error <= 1e-4, $"noise_pred rel error {error}");
    }
}
