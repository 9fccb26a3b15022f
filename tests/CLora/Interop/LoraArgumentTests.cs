using IlgpuDiffusion.CLora.Interop;

namespace IlgpuDiffusion.Tests.CLora.Interop;

public sealed class LoraArgumentTests
{
    [Theory]
    [InlineData("style.safetensors", "style.safetensors", 1.0)]
    [InlineData("style.safetensors:0.8", "style.safetensors", 0.8)]
    [InlineData("loras/style.safetensors:-1.5", "loras/style.safetensors", -1.5)]
    [InlineData("style.safetensors:1e-1", "style.safetensors", 0.1)]
    [InlineData(@"C:\loras\style.safetensors", @"C:\loras\style.safetensors", 1.0)]
    [InlineData(@"C:\loras\style.safetensors:0.5", @"C:\loras\style.safetensors", 0.5)]
    [InlineData("D:style.safetensors", "D:style.safetensors", 1.0)]
    [InlineData("odd:name.safetensors:2", "odd:name.safetensors", 2.0)]
    [InlineData("style.safetensors:", "style.safetensors:", 1.0)]
    [InlineData("style.safetensors:NaN", "style.safetensors:NaN", 1.0)]
    [InlineData("style.safetensors:Infinity", "style.safetensors:Infinity", 1.0)]
    public void Weight_is_parsed_only_when_the_text_after_the_last_colon_is_a_finite_number(string text, string path, double weight)
    {
        Assert.Equal(new LoraArgument(path, weight), LoraArgument.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData(":0.5")]
    [InlineData("  :1")]
    public void A_missing_file_names_the_option(string text)
    {
        var error = Assert.Throws<ArgumentException>(() => LoraArgument.Parse(text));
        Assert.Contains("--lora", error.Message);
        Assert.Contains("FILE[:weight]", error.Message);
    }
}
