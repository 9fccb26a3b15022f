using System.Diagnostics;

namespace IlgpuDiffusion.Kernels;

/// <summary>Runs a tool to completion and captures its exit code and output.</summary>
internal static class ProcessRunner
{
    /// <exception cref="System.ComponentModel.Win32Exception">The file cannot be started.</exception>
    public static (int ExitCode, string Stdout, string Stderr) Run(string fileName, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)
            ?? throw new InvalidOperationException($"could not start '{fileName}'.");
        // Read both streams concurrently so a full pipe never blocks the tool.
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.GetAwaiter().GetResult());
    }
}
