using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Tests.Model.Images;

public class GenerationParametersTests
{
    private static readonly GenerationParameters Basic =
        new("PROMPT", "NEG", 20, "Euler a", 7.5, 1234, 512, 512) { ModelHash = "abcdef1234", ModelName = "name" };

    [Fact]
    public void Writes_a1111s_infotext()
    {
        Assert.Equal(
            "PROMPT\nNegative prompt: NEG\nSteps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 1234, Size: 512x512, Model hash: abcdef1234, Model: name",
            Basic.ToA1111Text());
    }

    [Fact]
    public void Leaves_out_an_empty_negative_prompt_and_absent_model_fields_and_writes_floats_as_python()
    {
        var parameters = new GenerationParameters("a cat", "", 30, "DPM++ 2M Karras", 7, 42, 768, 512);
        Assert.Equal("a cat\nSteps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7.0, Seed: 42, Size: 768x512", parameters.ToA1111Text());
    }

    [Fact]
    public void Quotes_values_with_commas_colons_or_newlines_as_json()
    {
        var parameters = Basic with
        {
            Extra =
            [
                new("Clip skip", "2"),
                new("Lora hashes", "dog: 0123456789ab, kid: ba9876543210"),
                new("Note", "say \"hi\", then\nleave\\"),
                new("Denoising strength", "0.75"),
            ],
        };

        Assert.EndsWith(
            """Model: name, Clip skip: 2, Lora hashes: "dog: 0123456789ab, kid: ba9876543210", Note: "say \"hi\", then\nleave\\", Denoising strength: 0.75""",
            parameters.ToA1111Text());
    }

    public static TheoryData<GenerationParameters> RoundTrips() =>
    [
        Basic,
        Basic with { NegativePrompt = "" },
        Basic with { Prompt = "", NegativePrompt = "" },
        Basic with { Prompt = "" },
        Basic with { ModelHash = null, ModelName = null },
        Basic with { Prompt = "line one\nline two, (detailed:1.2)", NegativePrompt = "bad\nworse" },
        Basic with { Prompt = "富士山, très détaillé 🎨", Sampler = "DPM++ 2M Karras", CfgScale = 6.25, Seed = 4294967295 },
        Basic with { ModelName = "my model, v2: final", Extra = [new("Lora hashes", "a: 1, b: 2"), new("Clip skip", "2"), new("Note", "x \"y\"\n\\z")] },
    ];

    [Theory]
    [MemberData(nameof(RoundTrips))]
    public void Parse_reads_back_what_was_written(GenerationParameters parameters)
    {
        Assert.Equal(parameters, GenerationParameters.Parse(parameters.ToA1111Text()));
    }

    [Fact]
    public void Parses_text_written_by_a1111()
    {
        const string text = """
            a castle on a hill, (masterpiece:1.2)
            Negative prompt: blurry, lowres
            Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 3456, Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.7, Clip skip: 2, Lora hashes: "dog: 0123456789ab", Version: v1.6.0
            """;

        var parameters = GenerationParameters.Parse(text);

        Assert.Equal("a castle on a hill, (masterpiece:1.2)", parameters.Prompt);
        Assert.Equal("blurry, lowres", parameters.NegativePrompt);
        Assert.Equal((28, "DPM++ 2M Karras", 7.0, 3456L, 512, 768), (parameters.Steps, parameters.Sampler, parameters.CfgScale, parameters.Seed, parameters.Width, parameters.Height));
        Assert.Equal(("6ce0161689", "v1-5-pruned-emaonly"), (parameters.ModelHash, parameters.ModelName));
        Assert.Equal(
            [new("Denoising strength", "0.7"), new("Clip skip", "2"), new("Lora hashes", "dog: 0123456789ab"), new KeyValuePair<string, string>("Version", "v1.6.0")],
            parameters.Extra);
    }

    [Fact]
    public void A_missing_field_is_named()
    {
        var e = Assert.Throws<FormatException>(() => GenerationParameters.Parse("a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Size: 512x512"));
        Assert.Contains("'Seed'", e.Message);
    }

    [Fact]
    public void A_non_numeric_field_is_named()
    {
        var e = Assert.Throws<FormatException>(() => GenerationParameters.Parse("Steps: many, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512"));
        Assert.Contains("Steps: many", e.Message);
    }

    [Theory]
    [InlineData("Lora:hashes")]
    [InlineData("Seed")]
    [InlineData(" padded")]
    [InlineData("")]
    public void Extra_keys_a1111_could_not_read_back_are_refused(string key)
    {
        var e = Assert.Throws<ArgumentException>(() => Basic with { Extra = [new(key, "1")] });
        Assert.Contains($"'{key}'", e.Message);
    }
}
