using System.Text.Json;
using IlgpuDiffusion.Model.Text;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Model;

public class ClipTokenizerTests(ITestOutputHelper output)
{
    private static readonly Lazy<ClipTokenizer> tokenizer = new(() => ClipTokenizer.FromFolder(Fixtures.Path("tokenizer")));

    public static IEnumerable<object[]> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("tokenizer", "cases.json")));
        int index = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
            yield return [index++, c.GetProperty("prompt").GetString()!, c.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray()];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_transformers_input_ids(int index, string prompt, int[] expected)
    {
        var ids = tokenizer.Value.Encode(prompt);
        if (!ids.SequenceEqual(expected))
            output.WriteLine($"case {index}: {prompt}\n ours {string.Join(",", ids)}\n ref  {string.Join(",", expected)}");
        Assert.Equal(expected, ids);
    }

    [Fact]
    public void All_forty_fixture_cases_are_present()
    {
        Assert.Equal(40, Cases().Count());
    }

    [Fact]
    public void Framing_truncates_to_77_with_eos_last_and_pads_with_eos()
    {
        var t = tokenizer.Value;
        var ids = t.Frame(Enumerable.Repeat(320, 100).ToList());
        Assert.Equal(77, ids.Length);
        Assert.Equal(t.BosId, ids[0]);
        Assert.Equal(t.EosId, ids[^1]);
        Assert.All(ids[1..^1], id => Assert.Equal(320, id));
        Assert.Equal(49407, t.EosId);
        Assert.Equal(49406, t.BosId);
        Assert.Equal(49408, t.VocabularySize);
    }

    [Fact]
    public void A_missing_tokenizer_file_is_named()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        var e = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.FromFolder(dir));
        Assert.Contains("vocab.json", e.Message);
    }

    [Fact]
    public void Added_tokens_take_the_ids_after_the_vocabulary_and_match_case_insensitively_anywhere()
    {
        var t = ClipTokenizer.FromFolder(Fixtures.Path("tokenizer")); // its own instance: adding tokens changes it
        Assert.Equal(49408, t.AddToken("<My-Dog>"));
        Assert.Equal(49409, t.AddToken("<my-dog-2>"));
        Assert.Equal(49408, t.AddToken("<MY-DOG>")); // already added: the same id
        Assert.Equal(49410, t.VocabularySize);
        Assert.Equal(new Dictionary<string, int> { ["<my-dog>"] = 49408, ["<my-dog-2>"] = 49409 }, t.AddedTokens);

        var dog = t.Tokenize("dog").Single();
        // Matched before the word split, longest first, case-insensitively, even glued to other text.
        Assert.Equal([320, 1125, 539, 49408, dog], t.Tokenize("a photo of <MY-dog> dog"));
        Assert.Equal([49409, 537, 49408], t.Tokenize("<my-dog-2> and <my-dog>"));
        Assert.Equal([dog, 49408, dog], t.Tokenize("dog<my-dog>dog"));
        Assert.Equal([t.BosId, 49408, t.EosId], t.Encode("  <my-dog>  ")[..3]);
        // Text without an added token tokenizes as before.
        Assert.Equal(tokenizer.Value.Encode("a photo of a dog"), t.Encode("a photo of a dog"));
    }

    [Fact]
    public void An_empty_spaced_or_special_added_token_is_refused()
    {
        var t = ClipTokenizer.FromFolder(Fixtures.Path("tokenizer"));
        foreach (var text in new[] { "", "  ", "<my dog>", "<|endoftext|>" })
            Assert.Equal("text", Assert.Throws<ArgumentException>(() => t.AddToken(text)).ParamName);
        Assert.Empty(t.AddedTokens);
    }
}
