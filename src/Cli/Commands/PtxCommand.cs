using System.CommandLine;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Cli.Commands;

/// <summary>
/// <c>ptx --arch sm_80|sm_90 [--ptxas PATH] [--out DIR]</c>: compiles every registered kernel to PTX, assembles it
/// with ptxas, writes one <c>.ptx</c> per kernel and <c>report.txt</c> into DIR, and prints the report. Exit code 0
/// only when every kernel compiled and assembled.
/// </summary>
internal static class PtxCommand
{
    public static Command Create()
    {
        var names = PtxArchitecture.All.Select(a => a.Name).ToArray();
        var arch = new Option<string>("--arch")
        {
            Description = $"Architecture to compile and assemble for: {string.Join(" or ", names)}.",
            Required = true,
        };
        arch.AcceptOnlyFromAmong(names);
        var ptxas = new Option<string?>("--ptxas")
        {
            HelpName = "PATH",
            Description = $"The ptxas binary (default: ${PtxasLocator.EnvironmentVariable}, else the path ../shared/tools/get-ptxas.sh prints).",
        };
        var output = new Option<string?>("--out")
        {
            HelpName = "DIR",
            Description = "Folder for the .ptx files and report.txt (default: ptx-out/<arch>).",
        };

        var command = new Command("ptx", "Compile every kernel to PTX and assemble it with ptxas (no GPU needed).") { arch, ptxas, output };
        command.SetAction(parseResult =>
        {
            var architecture = PtxArchitecture.Parse(parseResult.GetValue(arch)!);
            var ptxasPath = PtxasLocator.Locate(parseResult.GetValue(ptxas));
            var directory = parseResult.GetValue(output) ?? Path.Combine("ptx-out", architecture.Name);
            var result = PtxValidation.Run(architecture, ptxasPath, directory);

            Console.Write(PtxReport.Format(result));
            Console.WriteLine($"PTX and report written to {result.OutputDirectory}");
            if (result.Succeeded) return 0;
            Console.Error.WriteLine(
                $"error: {result.Failures.Count} of {result.Kernels.Count} kernel(s) failed for {architecture.Name}: " +
                string.Join(", ", result.Failures.Select(f => f.Name)));
            return 1;
        });
        return command;
    }
}
