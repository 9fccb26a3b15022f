using System.Text.Json;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Cli;

public class TokenizeCommandTests
{
    [Fact]
    public void Prints_the_77_ids_as_a_json_array_on_the_last_line()
    {
        var (code, stdout, _) = ConsoleRunner.Run("tokenize", "a photograph of an astronaut riding a horse", "--model", Fixtures.Path("tiny-sd"));
        Assert.Equal(0, code);
        var ids = JsonSerializer.Deserialize<int[]>(stdout.TrimEnd().Split('\n')[^1])!;
        // transformers' CLIPTokenizer ids for this prompt (fixtures/tokenizer/cases.json, case 1).
        Assert.Equal([49406, 320, 8853, 539, 550, 18376, 6765, 320, 4558, 49407], ids[..10]);
        Assert.Equal(77, ids.Length);
    }

    [Fact]
    public void A_folder_without_a_tokenizer_is_a_clear_error()
    {
        var (code, _, stderr) = ConsoleRunner.Run("tokenize", "x", "--model", Directory.CreateTempSubdirectory().FullName);
        Assert.NotEqual(0, code);
        Assert.Contains("--tokenizer", stderr);
    }
}
