using System.Text.Json;
using IlgpuDiffusion.Model.Prompts;
using IlgpuDiffusion.Model.Text;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Model.Prompts;

public class PromptChunkerTests
{
    private static readonly Lazy<ClipTokenizer> tokenizer = new(() => ClipTokenizer.FromFolder(Fixtures.Path("tokenizer")));
    private static readonly Lazy<PromptChunker> chunker = new(() => new PromptChunker(tokenizer.Value));

    private static ClipTokenizer Tokenizer => tokenizer.Value;

    private static PromptChunker Chunker => chunker.Value;

    public static IEnumerable<object[]> CasesOfAtMost75Tokens() =>
        FixtureCases().Where(c => c.Ids.Length - 2 <= PromptChunker.ChunkLength).Select(c => new object[] { c.Prompt });

    [Theory]
    [MemberData(nameof(CasesOfAtMost75Tokens))]
    public void A_fixture_prompt_of_at_most_75_tokens_is_one_chunk_like_encode(string prompt)
    {
        var segments = PromptParser.Parse(prompt);

        var chunk = Assert.Single(Chunker.Chunk(segments));

        Assert.Equal(Tokenizer.Encode(string.Concat(segments.Select(s => s.Text))), chunk.Ids);
        Assert.Equal(ExpectedWeights(segments), chunk.Weights);
        if (prompt.IndexOfAny(['(', ')', '[', ']', '\\']) < 0)
        {
            Assert.Equal(Tokenizer.Encode(prompt), chunk.Ids); // plain prompts match diffusers exactly
            Assert.All(chunk.Weights, w => Assert.Equal(1f, w));
        }
    }

    [Fact]
    public void Of_the_37_fixture_prompts_within_75_tokens_34_are_plain()
    {
        Assert.Equal(37, CasesOfAtMost75Tokens().Count());
        Assert.Equal(34, CasesOfAtMost75Tokens().Count(c => ((string)c[0]).IndexOfAny(['(', ')', '[', ']', '\\']) < 0));
    }

    [Fact]
    public void Weighted_fixture_prompt_carries_its_weights_per_token()
    {
        var chunk = Assert.Single(Chunker.Chunk("portrait of a woman, oil painting, (masterpiece:1.2), [best quality]"));

        var plain = Tokenizer.Tokenize("portrait of a woman, oil painting, ");
        var masterpiece = Tokenizer.Tokenize("masterpiece");
        var best = Tokenizer.Tokenize("best quality");
        float[] expected = [1f, .. plain.Select(_ => 1f), .. masterpiece.Select(_ => 1.2f), 1f, .. best.Select(_ => (float)(1 / 1.1))];
        Assert.Equal(expected, chunk.Weights[..expected.Length]);
        Assert.All(chunk.Weights[expected.Length..], w => Assert.Equal(1f, w));
        Assert.Equal(Tokenizer.Encode("portrait of a woman, oil painting, masterpiece, best quality"), chunk.Ids);
    }

    [Fact]
    public void The_161_token_fixture_prompt_spans_three_chunks_that_hold_all_its_tokens()
    {
        var fixture = FixtureCases().Single(c => c.Ids.Length == 161);

        var chunks = Chunker.Chunk(fixture.Prompt);

        // The second chunk ends at a comma one token before it is full: what followed moves on (A1111's loop gives the same).
        Assert.Equal([75, 74, 10], chunks.Select(c => c.TokenCount));
        foreach (var chunk in chunks)
        {
            Assert.Equal(77, chunk.Ids.Length);
            Assert.Equal(Tokenizer.BosId, chunk.Ids[0]);
            Assert.All(chunk.Ids[(1 + chunk.TokenCount)..], id => Assert.Equal(Tokenizer.EosId, id));
            Assert.All(chunk.Weights, w => Assert.Equal(1f, w));
        }
        Assert.Equal(fixture.Ids[1..^1], chunks.SelectMany(c => c.Ids[1..(1 + c.TokenCount)]));
    }

    [Fact]
    public void A_comma_within_the_last_20_tokens_carries_what_follows_it_to_the_next_chunk()
    {
        // 60 cats, a comma at position 60, 20 dogs: the chunk fills at 75 with 14 dogs; 75 − 60 = 15 ≤ 20, so they move on.
        var chunks = Chunker.Chunk($"{Words("cat", 60)}, {Words("dog", 20)}");

        Assert.Equal(2, chunks.Count);
        Assert.Equal(61, chunks[0].TokenCount);
        Assert.Equal(Tokenizer.Tokenize(","), chunks[0].Ids[61..62]);
        Assert.Equal(20, chunks[1].TokenCount);
        Assert.All(chunks[1].Ids[1..21], id => Assert.Equal(Tokenizer.Tokenize("dog")[0], id));
    }

    [Fact]
    public void A_comma_exactly_20_tokens_back_still_moves_the_rest()
    {
        var chunks = Chunker.Chunk($"{Words("cat", 55)}, {Words("dog", 25)}");
        Assert.Equal([56, 25], chunks.Select(c => c.TokenCount));
    }

    [Fact]
    public void A_comma_further_back_gives_a_hard_split_at_75()
    {
        var chunks = Chunker.Chunk($"{Words("cat", 50)}, {Words("dog", 40)}");
        Assert.Equal([75, 16], chunks.Select(c => c.TokenCount));
    }

    [Fact]
    public void A_comma_arriving_on_a_full_chunk_opens_the_next_one()
    {
        var chunks = Chunker.Chunk($"{Words("cat", 75)}, dog");

        Assert.Equal([75, 2], chunks.Select(c => c.TokenCount));
        Assert.Equal([.. Tokenizer.Tokenize(","), .. Tokenizer.Tokenize("dog")], chunks[1].Ids[1..3]);
    }

    [Theory]
    [InlineData(75, 1)]
    [InlineData(76, 2)]
    [InlineData(150, 2)]
    [InlineData(151, 3)]
    public void Chunks_hold_75_tokens(int words, int expectedChunks)
    {
        var chunks = Chunker.Chunk(Words("cat", words));
        Assert.Equal(expectedChunks, chunks.Count);
        Assert.Equal(words, chunks.Sum(c => c.TokenCount));
    }

    [Fact]
    public void Break_pads_the_current_chunk()
    {
        var chunks = Chunker.Chunk("a cat BREAK a dog");

        Assert.Equal([2, 2], chunks.Select(c => c.TokenCount));
        Assert.Equal(Tokenizer.Encode("a cat"), chunks[0].Ids);
        Assert.Equal(Tokenizer.Encode("a dog"), chunks[1].Ids);
    }

    [Fact]
    public void A_leading_break_gives_an_empty_first_chunk_and_a_trailing_one_none()
    {
        Assert.Equal([0, 2], Chunker.Chunk("BREAK a dog").Select(c => c.TokenCount));
        Assert.Equal([2], Chunker.Chunk("a dog BREAK").Select(c => c.TokenCount));
    }

    [Fact]
    public void An_empty_prompt_is_one_chunk_of_padding()
    {
        var chunk = Assert.Single(Chunker.Chunk(""));
        Assert.Equal(Tokenizer.Encode(""), chunk.Ids);
        Assert.Equal(0, chunk.TokenCount);
        Assert.All(chunk.Weights, w => Assert.Equal(1f, w));
    }

    [Fact]
    public void Weights_sit_on_their_tokens_and_framing_weighs_one()
    {
        var chunk = Assert.Single(Chunker.Chunk("a (cat:1.5) [dog]"));

        Assert.Equal(Tokenizer.Encode("a cat dog"), chunk.Ids);
        Assert.Equal([1f, 1f, 1.5f, (float)(1 / 1.1), 1f], chunk.Weights[..5]);
        Assert.All(chunk.Weights[5..], w => Assert.Equal(1f, w));
    }

    private static string Words(string word, int count) => string.Join(" ", Enumerable.Repeat(word, count));

    private static float[] ExpectedWeights(IReadOnlyList<PromptSegment> segments)
    {
        var weights = segments.SelectMany(s => Tokenizer.Tokenize(s.Text).Select(_ => (float)s.Weight)).ToList();
        return [1f, .. weights, .. Enumerable.Repeat(1f, ClipTokenizer.MaxLength - 1 - weights.Count)];
    }

    private static IEnumerable<(string Prompt, int[] Ids)> FixtureCases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("tokenizer", "cases.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray()
            .Select(c => (c.GetProperty("prompt").GetString()!, c.GetProperty("ids_untruncated").EnumerateArray().Select(e => e.GetInt32()).ToArray()))
            .ToList();
    }
}
