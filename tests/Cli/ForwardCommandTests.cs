using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Cli;

/// <summary><c>forward</c> on the fixture inputs (the reference files themselves: tensors a component does not take are ignored).</summary>
public sealed class ForwardCommandTests(ITestOutputHelper output) : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("idf-forward-");

    public void Dispose() => folder.Delete(recursive: true);

    [Theory]
    [InlineData("text-encoder", "text_encoder.safetensors", new[] { "last_hidden_state", "pooler_output" })]
    [InlineData("vae-decode", "vae.safetensors", new[] { "decoded" })]
    [InlineData("unet", "unet.safetensors", new[] { "noise_pred" })]
    public void Writes_outputs_that_match_the_reference(string component, string fixture, string[] outputs)
    {
        var referencePath = Fixtures.Path("reference", fixture);
        var outPath = Path.Combine(folder.FullName, "out.safetensors");
        var (code, stdout, stderr) = ConsoleRunner.Run("forward", "--model", TinyModel.Folder, "--component", component,
            "--input", referencePath, "--output", outPath);
        Assert.True(code == 0, stderr);
        Assert.Contains("wrote", stdout);

        using var written = SafeTensorsReader.Open(outPath);
        using var reference = SafeTensorsReader.Open(referencePath);
        Assert.Equal(outputs.Order(), written.Tensors.Select(t => t.Name).Order());
        foreach (var name in outputs)
        {
            Assert.Equal(SafeTensorsDType.F32, written.GetInfo(name).DType);
            Assert.Equal(reference.GetInfo(name).Shape, written.GetInfo(name).Shape);
            double error = Reference.RelativeError(written.ReadF32(name), reference.ReadF32(name));
            output.WriteLine($"forward {component}: {name} rel error {error:E2}");
            Assert.True(error <= 1e-4, $"{name} rel error {error}");
        }
        Assert.Equal(["out.safetensors"], folder.GetFiles().Select(f => f.Name)); // no temp file left behind
    }

    [Fact]
    public void Unet_takes_float_timesteps_and_a_single_timestep_for_the_batch()
    {
        // Schedulers with Karras sigmas give fractional timesteps; case 2's scalar 500 is broadcast as [1].
        using var reference = SafeTensorsReader.Open(Fixtures.Path("reference", "unet.safetensors"));
        var input = Path.Combine(folder.FullName, "in.safetensors");
        new SafeTensorsWriter()
            .Add("sample", reference.ReadF32("sample"), [2, 4, 8, 8])
            .Add("timesteps", new[] { 500f }, [1])
            .Add("encoder_hidden_states", reference.ReadF32("case2_encoder_hidden_states"), [2, 77, 32])
            .Save(input);
        var outPath = Path.Combine(folder.FullName, "out.safetensors");
        var (code, _, stderr) = ConsoleRunner.Run("forward", "--model", TinyModel.Folder, "--component", "unet",
            "--input", input, "--output", outPath);
        Assert.True(code == 0, stderr);
        using var written = SafeTensorsReader.Open(outPath);
        double error = Reference.RelativeError(written.ReadF32("noise_pred"), reference.ReadF32("case2_noise_pred"));
        output.WriteLine($"forward unet, F32 timestep [500.0]: noise_pred rel error {error:E2}");
        Assert.True(error <= 1e-4, $"noise_pred rel error {error}");
    }

    [Fact]
    public void A_missing_input_tensor_names_the_tensor_and_writes_nothing()
    {
        var outPath = Path.Combine(folder.FullName, "out.safetensors");
        var (code, _, stderr) = ConsoleRunner.Run("forward", "--model", TinyModel.Folder, "--component", "vae-decode",
            "--input", Fixtures.Path("reference", "text_encoder.safetensors"), "--output", outPath);
        Assert.NotEqual(0, code);
        Assert.Contains("no tensor 'latent'", stderr);
        Assert.False(File.Exists(outPath));
    }

    [Fact]
    public void A_wrong_rank_is_a_clear_error()
    {
        var input = Path.Combine(folder.FullName, "in.safetensors");
        new SafeTensorsWriter().Add("latent", new float[4 * 8 * 8], [4, 8, 8]).Save(input);
        var (code, _, stderr) = ConsoleRunner.Run("forward", "--model", TinyModel.Folder, "--component", "vae-decode",
            "--input", input, "--output", Path.Combine(folder.FullName, "out.safetensors"));
        Assert.NotEqual(0, code);
        Assert.Contains("'latent' has shape [4, 8, 8]", stderr);
        Assert.Contains("rank 4", stderr);
    }

    [Fact]
    public void Float_token_ids_are_refused()
    {
        var input = Path.Combine(folder.FullName, "in.safetensors");
        new SafeTensorsWriter().Add("input_ids", new float[77], [1, 77]).Save(input);
        var (code, _, stderr) = ConsoleRunner.Run("forward", "--model", TinyModel.Folder, "--component", "text-encoder",
            "--input", input, "--output", Path.Combine(folder.FullName, "out.safetensors"));
        Assert.NotEqual(0, code);
        Assert.Contains("expects integers", stderr);
    }

    [Theory]
    [InlineData("--component", "unet-decoder", "unet-decoder")]
    [InlineData("--weights", "f8", "f8")]
    public void An_unknown_component_or_weight_dtype_is_refused(string option, string value, string named)
    {
        string[] args = ["forward", "--model", TinyModel.Folder, "--component", "vae-decode", "--input", Fixtures.Path("reference", "vae.safetensors"),
            "--output", Path.Combine(folder.FullName, "out.safetensors")];
        int at = Array.IndexOf(args, option);
        args = at >= 0 ? [.. args[..(at + 1)], value, .. args[(at + 2)..]] : [.. args, option, value];
        var (code, _, stderr) = ConsoleRunner.Run(args);
        Assert.NotEqual(0, code);
        Assert.Contains(named, stderr);
    }
}
