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
}
