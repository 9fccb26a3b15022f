using IlgpuDiffusion.Model.Prompts;

namespace IlgpuDiffusion.Tests.Model.Prompts;

public class PromptParserTests
{
    public static TheoryData<string, (string Text, double Weight)[]> A1111Examples() => new()
    {
        // The examples in the docstring of A1111's prompt_parser.parse_prompt_attention; weights are Python's float64 reprs.
        { "normal text", [("normal text", 1.0)] },
        { "an (important) word", [("an ", 1.0), ("important", 1.1), (" word", 1.0)] },
        { "(unbalanced", [("unbalanced", 1.1)] },
        { @"\(literal\]", [("(literal]", 1.0)] },
        { "(unnecessary)(parens)", [("unnecessaryparens", 1.1)] },
        {
            "a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).",
            [("a ", 1.0), ("house", 1.5730000000000004), (" ", 1.1), ("on", 1.0), (" a ", 1.1), ("hill", 0.55), (", sun, ", 1.1), ("sky", 1.4641000000000006), (".", 1.1)]
        },
        // The syntax of A1111's wiki.
        {
            "a (word) [word] (word:1.5) ((word))",
            [("a ", 1.0), ("word", 1.1), (" ", 1.0), ("word", 1 / 1.1), (" ", 1.0), ("word", 1.5), (" ", 1.0), ("word", 1.2100000000000002)]
        },
        { "[[faded]]", [("faded", 1 / 1.1 / 1.1)] },
        { "(a [b] c:0.5)", [("a ", 0.5), ("b", 1 / 1.1 * 0.5), (" c", 0.5)] },
        { "(word: 1.25 )", [("word", 1.25)] },
        { "(word:-0.5)", [("word", -0.5)] },
        { "(word:.5)", [("word", 0.5)] },
    };

    [Theory]
    [MemberData(nameof(A1111Examples))]
    public void Weights_follow_a1111(string prompt, (string Text, double Weight)[] expected)
    {
        Assert.Equal(expected.Select(e => new PromptSegment(e.Text, e.Weight)), PromptParser.Parse(prompt));
    }

    [Theory]
    [InlineData(@"\(a\) \[b\]", "(a) [b]")]
    [InlineData(@"back\\slash", @"back\slash")]
    [InlineData(@"lone\backslash", "lonebackslash")] // A1111 drops a backslash that escapes nothing
    [InlineData("a) b] c", "a) b] c")] // stray closers are text
    [InlineData("x:1.5) y", "x:1.5) y")] // a weighted closer with nothing open is text
    [InlineData("time: 12:30", "time: 12:30")]
    [InlineData("()[]a", "a")] // empty brackets vanish
    public void Escapes_and_stray_closers_are_literal(string prompt, string expected)
    {
        Assert.Equal([new PromptSegment(expected, 1.0)], PromptParser.Parse(prompt));
    }

    [Fact]
    public void Unclosed_openers_apply_to_the_rest_in_the_order_they_were_opened()
    {
        Assert.Equal(
            [new PromptSegment("a ", 1.0), new PromptSegment("b ", 1.1), new PromptSegment("c", 1.1 * (1 / 1.1))],
            PromptParser.Parse("a (b [c"));
        Assert.Equal([new PromptSegment("x:1.5", 1.1)], PromptParser.Parse("(x:1.5"));
    }

    [Fact]
    public void Break_splits_and_swallows_the_surrounding_whitespace()
    {
        Assert.Equal(
            [new PromptSegment("a cat", 1.0), PromptSegment.Break, new PromptSegment("a dog", 1.0)],
            PromptParser.Parse("a cat  BREAK\na dog"));
        Assert.Equal([PromptSegment.Break, new PromptSegment("x", 1.0), PromptSegment.Break, PromptSegment.Break], PromptParser.Parse("BREAK x BREAK BREAK"));
    }

    [Theory]
    [InlineData("a break b")]
    [InlineData("BREAKING news")]
    [InlineData("aBREAK b")]
    public void Break_counts_only_as_an_upper_case_whole_word(string prompt)
    {
        Assert.Equal([new PromptSegment(prompt, 1.0)], PromptParser.Parse(prompt));
    }

    [Fact]
    public void Break_inside_brackets_still_breaks_and_keeps_its_own_weight()
    {
        Assert.Equal(
            [new PromptSegment("a", 1.1), PromptSegment.Break, new PromptSegment("b", 1.1)],
            PromptParser.Parse("(a BREAK b)"));
        Assert.True(PromptParser.Parse("(a BREAK b)")[1].IsBreak);
    }

    [Fact]
    public void An_empty_prompt_has_no_segment()
    {
        Assert.Empty(PromptParser.Parse(""));
    }

    [Fact]
    public void A_weight_that_is_not_a_number_is_named()
    {
        var e = Assert.Throws<ArgumentException>(() => PromptParser.Parse("(a:1.2.3)"));
        Assert.Contains("'1.2.3'", e.Message);
    }
}
