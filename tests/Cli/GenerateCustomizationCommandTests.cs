using IlgpuDiffusion.CLora.Interop;
using IlgpuDiffusion.CLora.Library;
using IlgpuDiffusion.Model.Images;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.CLora;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;
using static IlgpuDiffusion.Tests.CLora.Interop.TinyModules;

namespace IlgpuDiffusion.Tests.Cli;

/// <summary><c>generate --library / --lora / --embedding</c> on the tiny fixture model.</summary>
public sealed class GenerateCustomizationCommandTests(ITestOutputHelper output) : IDisposable
{
    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("idf-generate-custom-");

    public void Dispose() => root.Delete(recursive: true);

    [Fact]
    public void Two_trained_concepts_generate_in_one_prompt_and_an_unknown_concept_is_an_error()
    {
        var library = InRoot("lib");
        foreach (var (concept, color) in new[] { ("dog", (byte)200), ("cat", (byte)40) })
        {
            var (trained, _, trainError) = ConsoleRunner.Run("train", "--model", TinyModel.Folder, "--library", library, "--concept", concept,
                "--images", ImageFolder(concept, color), "--steps", "2", "--resolution", "64", "--rank", "2", "--no-flip", "--device", "cpu");
            Assert.True(trained == 0, trainError);
        }
        string[] common = ["generate", "--model", TinyModel.Folder, "--device", "cpu", "--prompt", "a photo of <dog> and <cat>",
            "--scheduler", "ddim", "--steps", "2", "--guidance", "1", "--width", "64", "--height", "64", "--seed", "7"];

        var (code, stdout, stderr) = ConsoleRunner.Run([.. common, "--library", library, "--output", InRoot("both.png")]);
        output.WriteLine(stderr);
        Assert.True(code == 0, stderr);
        Assert.Contains($"library {library}: concepts <dog>, <cat>; deltas folded into", stderr);
        Assert.Contains("wrote", stdout);
        var (plainCode, _, plainError) = ConsoleRunner.Run([.. common, "--output", InRoot("plain.png")]);
        Assert.True(plainCode == 0, plainError);
        var (both, plain) = (ImageFile.Read(InRoot("both.png")), ImageFile.Read(InRoot("plain.png")));
        Assert.Equal((64, 64), (both.Width, both.Height));
        int differing = Enumerable.Range(0, both.Pixels.Length).Count(i => both.Pixels[i] != plain.Pixels[i]);
        output.WriteLine($"{differing} of {both.Pixels.Length} channel values differ from the same seed without the library");
        Assert.True(differing > both.Pixels.Length / 10, $"only {differing} channel values differ");

        var (unknown, _, unknownError) = ConsoleRunner.Run("generate", "--model", TinyModel.Folder, "--device", "cpu", "--library", library,
            "--prompt", "a photo of <zzz>", "--steps", "1", "--width", "64", "--height", "64", "--output", InRoot("zzz.png"));
        Assert.Equal(1, unknown);
        Assert.Contains("error: the prompt names <zzz>, which is no concept of library", unknownError);
        Assert.Contains("<dog>, <cat>", unknownError);
        Assert.False(File.Exists(InRoot("zzz.png")));
    }

    [Fact]
    public void Loras_and_embeddings_are_reported_with_the_keys_that_matched_nothing()
    {
        var lora = InRoot("style.safetensors");
        new SafeTensorsWriter()
            .AddKohya("lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k", [2, 32], [64, 2], seed: 1)
            .AddKohya("lora_unet_no_such_block_to_k", [2, 32], [32, 2], seed: 3)
            .Save(lora);
        var embedding = InRoot("my-style.safetensors");
        new TextualInversionEmbedding("x", Reference.RandomNormal(32, 5), 32).Save(embedding);

        var (code, _, stderr) = ConsoleRunner.Run("generate", "--model", TinyModel.Folder, "--device", "cpu", "--prompt", "a my-style house",
            "--lora", lora + ":0.5", "--embedding", embedding, "--steps", "1", "--guidance", "1", "--width", "64", "--height", "64",
            "--seed", "3", "--output", InRoot("styled.png"));
        output.WriteLine(stderr);

        Assert.True(code == 0, stderr);
        Assert.Contains($"lora {lora} (weight 0.5): applied 1 layer(s), 2 key(s) matched nothing", stderr);
        Assert.Contains("  applied UNet mid_block.attentions.0.transformer_blocks.0.attn2.to_k: rank 2", stderr);
        Assert.Contains("  unmatched lora_unet_no_such_block_to_k.lora_down.weight: no UNet module is named 'no_such_block_to_k'", stderr);
        Assert.Contains("  unmatched lora_unet_no_such_block_to_k.lora_up.weight:", stderr);
        Assert.Contains("embedding my-style: 1 vector(s), ids 49408…49408", stderr);
        Assert.True(File.Exists(InRoot("styled.png")));
    }

    [Fact]
    public void A_missing_lora_and_a_library_of_another_model_are_clear_errors()
    {
        var missing = InRoot("missing.safetensors");
        var (code, _, stderr) = ConsoleRunner.Run("generate", "--model", TinyModel.Folder, "--device", "cpu", "--prompt", "a house",
            "--lora", missing + ":0.8", "--output", InRoot("x.png"));
        Assert.Equal(1, code);
        Assert.Contains($"error: '{missing}': no such LoRA file", stderr);

        var other = ConceptLibrary.Create(InRoot("other"), LibraryTestData.BaseModel, LibraryTestData.Settings());
        (code, _, stderr) = ConsoleRunner.Run("generate", "--model", TinyModel.Folder, "--device", "cpu", "--prompt", "a house",
            "--library", other.Folder, "--output", InRoot("x.png"));
        Assert.Equal(1, code);
        Assert.Contains("error: concept library", stderr);
        Assert.Contains($"it was trained on the base model sha256 {LibraryTestData.BaseModel.Sha256}", stderr);
        Assert.False(File.Exists(InRoot("x.png")));
    }

    private string InRoot(string name) => Path.Combine(root.FullName, name);

    /// <summary>Two 32×32 gradients tinted by <paramref name="color"/>, in a folder named after the concept.</summary>
    private string ImageFolder(string concept, byte color)
    {
        var folder = Directory.CreateDirectory(InRoot(concept)).FullName;
        for (int k = 0; k < 2; k++)
        {
            var pixels = new byte[32 * 32 * 3];
            for (int i = 0; i < 32 * 32; i++)
                (pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]) = (color, (byte)(8 * (i % 32)), (byte)(8 * (i / 32) + 60 * k));
            PngWriter.Save(Path.Combine(folder, $"img{k}.png"), new RgbImage(32, 32, pixels));
        }
        return folder;
    }
}
