using System.CommandLine;
using IlgpuDiffusion.Model.Text;

namespace IlgpuDiffusion.Cli.Commands;

/// <summary><c>tokenize "&lt;prompt&gt;" --model PATH</c>: prints the 77 CLIP input ids as one JSON array.</summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var prompt = new Argument<string>("prompt") { Description = "The prompt to tokenize." };
        var model = new Option<string>("--model")
        {
            Description = "A diffusers model folder (its tokenizer/ is used) or a tokenizer folder (vocab.json + merges.txt).",
            Required = true,
        };
        var tokenizerDir = new Option<string?>("--tokenizer") { Description = "A tokenizer folder that overrides the model's." };
        var command = new Command("tokenize", "Print the 77 CLIP input ids of a prompt as a JSON array (last line).") { prompt, model, tokenizerDir };
        command.SetAction(parse =>
        {
            var folder = parse.GetValue(tokenizerDir) ?? TokenizerFolder(parse.GetValue(model)!);
            var ids = ClipTokenizer.FromFolder(folder).Encode(parse.GetValue(prompt)!);
            Console.WriteLine($"[{string.Join(", ", ids)}]");
            return 0;
        });
        return command;
    }

    private static string TokenizerFolder(string model)
    {
        if (File.Exists(Path.Combine(model, "vocab.json"))) return model;
        var nested = Path.Combine(model, "tokenizer");
        if (Directory.Exists(nested)) return nested;
        throw new ArgumentException(
            $"--model: '{model}' has no tokenizer/ folder and no vocab.json; a single-file checkpoint needs --tokenizer DIR.");
    }
}
