using IlgpuDiffusion.CLora.Generation;
using IlgpuDiffusion.CLora.Interop;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.CLora.Generation;

/// <summary><see cref="PipelineCustomization.AddEmbedding"/>: a textual-inversion file's vectors take the place of its token in prompts.</summary>
public sealed class EmbeddingTokensTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("idf-embedding-");

    public void Dispose() => folder.Delete(recursive: true);

    [Fact]
    public void A_two_vector_embedding_encodes_exactly_as_the_words_whose_table_rows_it_holds()
    {
        using var pipeline = TinyPipelines.Load();
        var words = pipeline.Tokenizer.Tokenize("red house");
        Assert.Equal(2, words.Count);
        using var reader = SafeTensorsReader.Open(Fixtures.Path("tiny-sd", "text_encoder", "model.safetensors"));
        var table = reader.ReadF32("text_model.embeddings.token_embedding.weight");
        const int width = 32;
        float[] vectors = [.. words.SelectMany(id => table.AsSpan(id * width, width).ToArray())];
        var path = Path.Combine(folder.FullName, "my-style.safetensors");
        new TextualInversionEmbedding("stored-name", vectors, width).Save(path);
        var plain = pipeline.Prompts.Encode("a photo of red house");
        using var custom = new PipelineCustomization(pipeline);

        var tokens = custom.AddEmbedding(TextualInversionEmbedding.Read(path));

        Assert.Equal([("my-style", 49408, 0), ("my-style", 49409, 1)], tokens.Select(t => (t.Text, t.Id, t.Row)));
        var photo = pipeline.Tokenizer.Tokenize("a photo of");
        Assert.Equal([.. photo, 49408, 49409], pipeline.Tokenizer.Tokenize("a photo of My-Style"));
        Assert.DoesNotContain(49408, pipeline.Tokenizer.Tokenize("amy-style my-styles")); // not inside other words
        // The encoder's input rows at the token's positions are the file's vectors, so the whole encoding is the words'.
        var embedded = pipeline.Prompts.Encode("a photo of my-style");
        Assert.Equal(plain.Values, embedded.Values);
        Assert.NotEqual(plain.Values, pipeline.Prompts.Encode("a photo of red").Values);
    }

    [Fact]
    public void An_embedding_of_another_width_or_a_name_taken_already_is_refused()
    {
        using var pipeline = TinyPipelines.Load();
        using var custom = new PipelineCustomization(pipeline);
        var wide = new TextualInversionEmbedding("sd21-style", Reference.RandomNormal(1024, 1), 1024);
        Assert.Contains("1024-wide", Assert.Throws<ArgumentException>(() => custom.AddEmbedding(wide)).Message);

        custom.AddEmbedding(new TextualInversionEmbedding("style", Reference.RandomNormal(32, 2), 32));
        var again = new TextualInversionEmbedding("STYLE", Reference.RandomNormal(32, 3), 32);
        Assert.Contains("added already", Assert.Throws<ArgumentException>(() => custom.AddEmbedding(again)).Message);
        Assert.Single(custom.Tokens);
    }
}
