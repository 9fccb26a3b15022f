using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.CLora;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.CLora;

/// <summary>Concept tokens: ids after the vocabulary, the random start at the table's scale, the encoder reading their rows.</summary>
public sealed class ConceptTokensTests
{
    private readonly Device device = Devices.Portable;

    [Fact]
    public void New_tokens_take_the_next_ids_and_a_seeded_start_at_the_tables_scale()
    {
        using var model = new TinySd();
        using var tokens = new ConceptTokens(model.Tokenizer, model.TextEncoder);
        var table = model.TextEncoder.TokenEmbedding.Value.ToFloatArray();
        double mean = table.Average(v => (double)v);
        double std = Math.Sqrt(table.Sum(v => (v - mean) * (v - mean)) / (table.Length - 1));
        Assert.Equal(std, tokens.EmbeddingStd, 1e-6 * std);

        var dog = tokens.Add("<my-dog>", seed: 5);
        var cat = tokens.Add("<my-cat>", seed: 5);
        Assert.Equal((49408, 0), (dog.Id, dog.Row));
        Assert.Equal((49409, 1), (cat.Id, cat.Row));
        Assert.Same(cat, tokens.Training); // the newest trains, the previous one is frozen
        Assert.Equal([model.Tokenizer.BosId, 49409, 49408], model.Tokenizer.Encode("<My-Cat> <my-dog>")[..3]);
        Assert.Same(tokens.Rows, model.TextEncoder.ExtraTokenRows);
        Assert.Equal(new Shape(2, 32), tokens.Rows!.Shape);
        Assert.True(tokens.Rows.RequiresGrad);

        // N(0, σ²) from Philox: the same seed gives the same row (on any device), scaled by σ.
        using (var normal = Tensor.Empty(device, DType.F32, 1, 32))
        {
            Philox.Normal(normal, 5);
            Assert.Equal(normal.ToFloatArray().Select(v => v * tokens.EmbeddingStd), tokens.ReadRow(dog));
        }
        Assert.Equal(tokens.ReadRow(dog), tokens.ReadRow(cat));
        Assert.Equal(32, tokens.TrainingRow.Offset);
        Assert.Null(tokens.TrainingGradient);

        tokens.Freeze();
        Assert.Null(tokens.Training);
        Assert.False(tokens.Rows!.RequiresGrad);
        Assert.Throws<InvalidOperationException>(() => tokens.TrainingRow);
        Assert.Throws<ArgumentException>(() => tokens.Add("my-fox", seed: 1));   // not <name>
        Assert.Throws<ArgumentException>(() => tokens.Add("<MY-DOG>", seed: 1)); // taken
    }

    [Fact]
    public void The_encoder_embeds_a_token_as_its_row_and_back_propagates_into_the_rows_only()
    {
        using var model = new TinySd();
        using var tokens = new ConceptTokens(model.Tokenizer, model.TextEncoder);
        // A frozen token holding the row of "dog", and a trained one: "<dog-copy>" must encode exactly as "dog".
        int dogId = model.Tokenizer.Tokenize("dog").Single();
        var dogRow = model.TextEncoder.TokenEmbedding.Value.ToFloatArray().AsSpan(dogId * 32, 32).ToArray();
        tokens.Add("<dog-copy>", dogRow);
        var trained = tokens.Add("<mine>", seed: 9);
        const int length = 8; // bos, 4 tokens, eos, padding: enough, and cheap
        using var ids = Tensor.FromHost(device,
            [.. model.Tokenizer.Encode("a <dog-copy> and <mine>")[..length], .. model.Tokenizer.Encode("a dog and <mine>")[..length]], 2, length);

        using var tape = Tape.Record();
        using var output = model.TextEncoder.Encode(ids);
        var hidden = output.LastHiddenState.Value.ToFloatArray();
        Assert.Equal(hidden[..(length * 32)], hidden[(length * 32)..]);
        using var loss = Ops.Mean(output.LastHiddenState);
        tape.Backward(loss);

        var grad = tokens.Rows!.Grad!.ToFloatArray();
        Assert.Contains(grad[32..], g => g != 0f);
        Assert.Same(tokens.Rows.Grad, tokens.TrainingGradient!.Value.Tensor);
        Assert.Equal(trained.Row * 32, tokens.TrainingGradient!.Value.Offset);
        Assert.Null(model.TextEncoder.TokenEmbedding.Grad); // the vocabulary's table stays frozen
    }
}
