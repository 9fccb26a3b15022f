using System.CommandLine;
using IlgpuDiffusion.Model.Loading;

namespace IlgpuDiffusion.Cli.Commands;

/// <summary>The options that say which checkpoint to load and how: <c>--model</c>, <c>--config</c>, <c>--tokenizer</c>, <c>--weights</c>.</summary>
internal sealed class ModelOptions(bool modelRequired = true)
{
    public Option<string> Model { get; } = new("--model")
    {
        HelpName = "PATH",
        Description = "A diffusers model folder or a single-file LDM .safetensors checkpoint.",
        Required = modelRequired,
    };

    public Option<string?> Config { get; } = new("--config")
    {
        HelpName = "DIR",
        Description = "A diffusers-style folder whose configs override the model's (a single file has none; without it the architecture is inferred).",
    };

    public Option<string?> Tokenizer { get; } = new("--tokenizer")
    {
        HelpName = "DIR",
        Description = "A tokenizer folder (vocab.json + merges.txt) that overrides the model's.",
    };

    public Option<string> Weights { get; } = new("--weights")
    {
        Description = "Device dtype of the weights: f32 or f16 (biases and norms stay f32).",
        DefaultValueFactory = _ => "f32",
    };

    /// <summary>Adds the four options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { Model, Config, Tokenizer, Weights }) command.Options.Add(option);
    }

    /// <summary>The <see cref="ModelSource"/> the parsed options describe.</summary>
    public ModelSource Source(ParseResult parse) => new(parse.GetValue(Model)!)
    {
        ConfigFolder = parse.GetValue(Config),
        TokenizerFolder = parse.GetValue(Tokenizer),
        Weights = ModelSource.ParseWeights(parse.GetValue(Weights)!),
    };
}
