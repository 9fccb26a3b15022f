using System.CommandLine;

namespace IlgpuDiffusion.Cli.Commands;

/// <summary><c>ptx</c>: compiles every registered kernel to PTX and assembles it with ptxas.</summary>
internal static class PtxCommand
{
    public static Command Create()
    {
        var command = new Command("ptx", "Compile every kernel to PTX and assemble it with ptxas (no GPU needed).");
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("ptx: not built yet");
            return 1;
        });
        return command;
    }
}
