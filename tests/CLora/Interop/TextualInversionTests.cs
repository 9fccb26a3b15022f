using IlgpuDiffusion.CLora.Interop;
using IlgpuDiffusion.Model.SafeTensors;
using static IlgpuDiffusion.Tests.CLora.Interop.TinyModules;

namespace IlgpuDiffusion.Tests.CLora.Interop;

public sealed class TextualInversionTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("idf-embedding-");

    public void Dispose() => folder.Delete(recursive: true);

    private string Save(SafeTensorsWriter file, string name)
    {
        var path = Path.Combine(folder.FullName, name);
        file.Save(path);
        return path;
    }

    [Fact]
    public void A1111_emb_params_file_is_read_with_the_file_name_as_token()
    {
        var vectors = Random([3, 768], 1);
        var file = new SafeTensorsWriter().Add("emb_params", vectors, [3, 768]);
        file.Metadata["name"] = "stored-name";
        var embedding = TextualInversionEmbedding.Read(Save(file, "my-dog.safetensors"));
        Assert.Equal(("my-dog", 3, 768, TextualInversionFormat.EmbParams, "stored-name"),
            (embedding.Token, embedding.Count, embedding.Width, embedding.Format, embedding.StoredName));
        Assert.Equal(vectors, embedding.Vectors.ToArray());
    }

    [Fact]
    public void String_to_param_and_SDXL_clip_l_layouts_are_read()
    {
        var a1111 = TextualInversionEmbedding.Read(Save(new SafeTensorsWriter().Add("string_to_param.*", Random([2, 768], 2), [2, 768]), "style.safetensors"));
        Assert.Equal((TextualInversionFormat.StringToParam, 2), (a1111.Format, a1111.Count));
        Assert.Equal(Random([2, 768], 2), a1111.Vectors.ToArray());

        var sdxl = new SafeTensorsWriter().Add("clip_l", Random([4, 768], 3), [4, 768]).Add("clip_g", Random([4, 1280], 4), [4, 1280]);
        var clipL = TextualInversionEmbedding.Read(Save(sdxl, "xl.safetensors"));
        Assert.Equal((TextualInversionFormat.ClipL, 4, 768), (clipL.Format, clipL.Count, clipL.Width));
        Assert.Equal(Random([4, 768], 3), clipL.Vectors.ToArray());
    }

    [Theory]
    [InlineData(new[] { 768 })]
    [InlineData(new[] { 1, 768 })]
    public void Diffusers_learned_embeds_is_read_with_its_placeholder_token(int[] shape)
    {
        var path = Save(new SafeTensorsWriter().Add("<cat-toy>", Random(shape, 5), shape), "learned_embeds.safetensors");
        var embedding = TextualInversionEmbedding.Read(path);
        Assert.Equal(("learned_embeds", "<cat-toy>", TextualInversionFormat.Diffusers, 1, 768),
            (embedding.Token, embedding.StoredName, embedding.Format, embedding.Count, embedding.Width));
        Assert.Equal("<cat-toy>", TextualInversionEmbedding.Read(path, token: "<cat-toy>").Token);
    }

    [Fact]
    public void Saved_embedding_round_trips_as_A1111_emb_params_with_its_name()
    {
        var path = Path.Combine(folder.FullName, "v1-dog.safetensors");
        var vectors = Random([2, 32], 6);
        new TextualInversionEmbedding("v1-dog", vectors, 32).Save(path);
        using (var file = SafeTensorsReader.Open(path))
        {
            Assert.Equal(["emb_params"], file.Tensors.Select(t => t.Name));
            Assert.Equal([2, 32], file.GetInfo("emb_params").Shape);
            Assert.Equal("v1-dog", file.Metadata["name"]);
        }
        var read = TextualInversionEmbedding.Read(path);
        Assert.Equal(("v1-dog", "v1-dog", 2, 32), (read.Token, read.StoredName, read.Count, read.Width));
        Assert.Equal(vectors, read.Vectors.ToArray());
    }

    [Theory]
    [InlineData("embedding.pt")]
    [InlineData("learned_embeds.bin")]
    public void Pickle_embeddings_are_refused_with_the_conversion(string name)
    {
        var path = Path.Combine(folder.FullName, name);
        File.WriteAllBytes(path, [0x80, 0x02, 0x7d, 0x71]);
        var error = Assert.Throws<InteropFileException>(() => TextualInversionEmbedding.Read(path));
        Assert.Equal(path, error.FilePath);
        Assert.Contains("textual-inversion embedding is a PyTorch pickle", error.Message);
        Assert.Contains("emb_params", error.Message);
    }

    [Fact]
    public void A_file_without_an_embedding_tensor_is_refused_listing_its_tensors()
    {
        var path = Save(new SafeTensorsWriter().Add("a", Random([4], 7), [4]).Add("b", Random([4], 8), [4]), "two.safetensors");
        var error = Assert.Throws<InteropFileException>(() => TextualInversionEmbedding.Read(path));
        Assert.Contains("holds 2 tensors (a, b)", error.Message);
    }

    [Fact]
    public void An_embedding_of_the_wrong_rank_is_refused()
    {
        var path = Save(new SafeTensorsWriter().Add("emb_params", Random([1, 2, 768], 9), [1, 2, 768]), "cube.safetensors");
        Assert.Contains("tensor 'emb_params' is emb_params: F32 [1, 2, 768]; expected float vectors [C] or [n, C]",
            Assert.Throws<InteropFileException>(() => TextualInversionEmbedding.Read(path)).Message);
    }
}
