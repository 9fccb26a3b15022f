using System.CommandLine;
using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Cli.Forward;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.SafeTensors;

namespace IlgpuDiffusion.Cli.Commands;

/// <summary>
/// <c>forward --model PATH --component NAME --input IN --output OUT</c>: runs one network of a checkpoint on the
/// named tensors of a safetensors file and writes its outputs (NCHW / [N, L, C], F32) atomically to another, for
/// parity checks against diffusers and transformers. The components are <see cref="ForwardRunners.All"/>.
/// </summary>
internal static class ForwardCommand
{
    public static Command Create()
    {
        var components = ForwardRunners.All.Keys.ToArray();
        var model = new Option<string>("--model")
        {
            HelpName = "PATH",
            Description = "A diffusers model folder or a single-file LDM .safetensors checkpoint.",
            Required = true,
        };
        var config = new Option<string?>("--config")
        {
            HelpName = "DIR",
            Description = "A diffusers-style folder whose configs override the model's (a single file has none; without it the architecture is inferred).",
        };
        var tokenizer = new Option<string?>("--tokenizer")
        {
            HelpName = "DIR",
            Description = "A tokenizer folder (vocab.json + merges.txt) that overrides the model's.",
        };
        var component = new Option<string>("--component")
        {
            Description = "The network to run: " + string.Join("; ", ForwardRunners.All.Values.Select(r => r.Summary)) + ".",
            Required = true,
        };
        component.AcceptOnlyFromAmong(components);
        var input = new Option<string>("--input")
        {
            HelpName = "FILE",
            Description = "A safetensors file with the component's input tensors (NCHW images and latents; others are ignored).",
            Required = true,
        };
        var output = new Option<string>("--output")
        {
            HelpName = "FILE",
            Description = "The safetensors file to write the outputs to (F32; replaced atomically).",
            Required = true,
        };
        var weights = new Option<string>("--weights")
        {
            Description = "Device dtype of the weights: f32 or f16 (biases and norms stay f32).",
            DefaultValueFactory = _ => "f32",
        };
        var device = CommonOptions.Device();

        var command = new Command("forward", "Run one network (" + string.Join(", ", components) + ") on tensors from a safetensors file.")
        {
            model, config, tokenizer, component, input, output, weights, device,
        };
        command.SetAction(parse =>
        {
            var name = parse.GetValue(component)!;
            var runner = ForwardRunners.All[name];
            var source = new ModelSource(parse.GetValue(model)!)
            {
                ConfigFolder = parse.GetValue(config),
                TokenizerFolder = parse.GetValue(tokenizer),
                Weights = ModelSource.ParseWeights(parse.GetValue(weights)!),
            };
            var outputPath = parse.GetValue(output)!;
            using var inputFile = SafeTensorsReader.Open(parse.GetValue(input)!);
            using var opened = CommonOptions.OpenDevice(parse.GetValue(device));
            using var checkpoint = CheckpointLoader.Open(source, opened);
            IReadOnlyDictionary<string, Tensor> results;
            using (Grad.NoGrad())
                results = runner.Run(checkpoint, new ForwardInputs(inputFile, opened, name));
            try
            {
                var writer = new SafeTensorsWriter();
                foreach (var (tensorName, tensor) in results) writer.Add(tensorName, tensor);
                writer.Save(outputPath);
                Console.WriteLine($"wrote {Path.GetFullPath(outputPath)}: {string.Join(", ", results.Select(r => $"{r.Key} {r.Value.Shape}"))}");
                return 0;
            }
            finally
            {
                foreach (var tensor in results.Values) tensor.Dispose();
            }
        });
        return command;
    }
}
