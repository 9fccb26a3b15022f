using System.CommandLine;
using IlgpuDiffusion.Cli.Commands;
using IlgpuDiffusion.CLora.Interop;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;

namespace IlgpuDiffusion.Cli;

/// <summary>The <c>idf</c> console: a thin shell over the engine's library API.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("IlgpuDiffusion: a Stable Diffusion 1.x engine on ILGPU kernels, with C-LoRA continual customization.");
        root.Subcommands.Add(DevicesCommand.Create());
        root.Subcommands.Add(PtxCommand.Create());
        root.Subcommands.Add(TokenizeCommand.Create());
        root.Subcommands.Add(ForwardCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(ConceptsCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(MetricsCommand.Create());
        root.Subcommands.Add(EvaluateSequenceCommand.Create());
        return Run(root, args);
    }

    /// <summary>Parses and runs; engine errors become one line on stderr and a non-zero exit code.</summary>
    internal static int Run(RootCommand root, string[] args)
    {
        var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        try
        {
            return root.Parse(args).Invoke(config);
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException
                                      or InvalidOperationException or UnauthorizedAccessException or NotSupportedException
                                      or CheckpointException or ConfigException or WeightsMismatchException or InteropFileException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
