namespace IlgpuDiffusion.Tests.Cli;

/// <summary>Runs the console's Main in-process and captures what it prints.</summary>
public static class ConsoleRunner
{
    private static readonly object gate = new();

    public static (int ExitCode, string Out, string Error) Run(params string[] args)
    {
        lock (gate)
        {
            var (oldOut, oldErr) = (Console.Out, Console.Error);
            var (stdout, stderr) = (new StringWriter(), new StringWriter());
            try
            {
                Console.SetOut(stdout);
                Console.SetError(stderr);
                int code = IlgpuDiffusion.Cli.Program.Main(args);
                return (code, stdout.ToString(), stderr.ToString());
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldErr);
            }
        }
    }
}
