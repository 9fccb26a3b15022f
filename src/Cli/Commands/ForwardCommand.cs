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
/// parity checks against diffusers and transformers. The components are <see cref="ForwardRunners.All"/> and the
/// feature extractors <see cref="ForwardRunners.Extractors"/> (whose <c>--model</c> is a CLIP or ViT folder).
/// </summary>
internal static class ForwardCommand
{
    public static Command Create()
    {
        var components = ForwardRunners.All.Keys.Concat(ForwardRunners.Extractors.Keys).ToArray();
        var modelOptions = new ModelOptions();
        var component = new Option<string>("--component")
        {
            Description = "The network to run: " + string.Join("; ", ForwardRunners.All.Values.Select(r => r.Summary)
                .Concat(ForwardRunners.Extractors.Values.Select(r => r.Summary))) + ".",
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
        var device = CommonOptions.Device();

        var command = new Command("forward", "Run one network (" + string.Join(", ", components) + ") on tensors from a safetensors file.")
        {
            component, input, output, device,
        };
        modelOptions.AddTo(command);
        modelOptions.Model.Description += " For " + string.Join(", ", ForwardRunners.Extractors.Keys) + ": a Hugging Face CLIP or ViT (DINO) folder.";
        command.SetAction(parse =>
        {
            var name = parse.GetValue(component)!;
            var source = modelOptions.Source(parse);
            var outputPath = parse.GetValue(output)!;
            using var inputFile = SafeTensorsReader.Open(parse.GetValue(input)!);
            using var opened = CommonOptions.OpenDevice(parse.GetValue(device));
            var inputs = new ForwardInputs(inputFile, opened, name);
            IReadOnlyDictionary<string, Tensor> results;
            using (Grad.NoGrad())
            {
                if (ForwardRunners.Extractors.TryGetValue(name, out var extractor))
                {
                    if (source.ConfigFolder is not null || source.TokenizerFolder is not null || source.Weights != DType.F32)
                        throw new ArgumentException($"--config, --tokenizer and --weights do not apply to the {name} component (its --model folder holds everything; it runs in f32).");
                    results = extractor.Run(source.ModelPath, opened, inputs);
                }
                else
                {
                    using var checkpoint = CheckpointLoader.Open(source, opened);
                    results = ForwardRunners.All[name].Run(checkpoint, inputs);
                }
            }
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
