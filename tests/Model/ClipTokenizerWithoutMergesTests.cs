using IlgpuDiffusion.Model.Text;

namespace IlgpuDiffusion.Tests.Model;

/// <summary><see cref="ClipTokenizer.WithoutMerges"/>: CLIP's id layout at any size, one token per byte of a word.</summary>
public sealed class ClipTokenizerWithoutMergesTests
{
    [Fact]
    public void Every_byte_is_a_token_and_the_special_tokens_are_the_last_ids()
    {
        var tokenizer = ClipTokenizer.WithoutMerges(49408);
        Assert.Equal(49408, tokenizer.VocabularySize);
        Assert.Equal((49406, 49407), (tokenizer.BosId, tokenizer.EosId));
        // "Ab c": lower-cased, words a·b</w> and c</w>; byte b is symbol id b, with "</w>" 256 + b.
        Assert.Equal(new[] { 'a', 256 + 'b', 256 + 'c' }, tokenizer.Tokenize("Ab c"));
        var ids = tokenizer.Encode("hi");
        Assert.Equal(new[] { 49406, 'h', 256 + 'i', 49407, 49407 }, ids[..5]);
    }

    [Fact]
    public void A_size_without_room_for_the_bytes_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ClipTokenizer.WithoutMerges(300));
    }
}
