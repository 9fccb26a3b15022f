using System.ComponentModel;

namespace IlgpuDiffusion.Kernels;

/// <summary>The outcome of assembling one PTX module with ptxas.</summary>
/// <param name="ExitCode">ptxas's exit code (0: assembled).</param>
/// <param name="Output">Everything ptxas printed (stdout, then stderr).</param>
/// <param name="Resources">The entry function's resource usage, when ptxas reported it.</param>
public sealed record PtxasResult(int ExitCode, string Output, PtxasResources? Resources)
{
    /// <summary>True when ptxas exited 0 and reported the entry's resources.</summary>
    public bool Succeeded => ExitCode == 0 && Resources is not null;

    /// <summary>ptxas's warning lines.</summary>
    public IReadOnlyList<string> Warnings =>
        Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith("ptxas warning", StringComparison.Ordinal))
            .ToList();
}

/// <summary>Runs NVIDIA's ptxas (<c>-arch=sm_XX -v</c>) on PTX files and reads back its resource report.</summary>
/// <param name="ptxasPath">The ptxas binary (see <see cref="PtxasLocator"/>).</param>
/// <param name="architecture">The architecture to assemble for.</param>
public sealed class PtxAssembler(string ptxasPath, PtxArchitecture architecture)
{
    /// <summary>The ptxas binary this assembler runs.</summary>
    public string PtxasPath { get; } = ptxasPath;

    /// <summary>The architecture it assembles for.</summary>
    public PtxArchitecture Architecture { get; } = architecture;

    /// <summary>ptxas's version line, e.g. "Cuda compilation tools, release 11.8, V11.8.89".</summary>
    public string Version()
    {
        var (_, stdout, _) = ProcessRunner.Run(PtxasPath, ["--version"]);
        return stdout.Split('\n', StringSplitOptions.TrimEntries).LastOrDefault(l => l.Contains("release", StringComparison.Ordinal))
            ?? "unknown version";
    }

    /// <summary>Assembles one PTX file (the cubin is discarded). Thread-safe: each call runs its own process.</summary>
    /// <exception cref="Win32Exception">ptxas cannot be started.</exception>
    public PtxasResult Assemble(string ptxFile)
    {
        var cubin = Path.GetTempFileName();
        try
        {
            var (exitCode, stdout, stderr) = ProcessRunner.Run(
                PtxasPath, [$"-arch={Architecture.Name}", "-v", "-o", cubin, ptxFile]);
            var output = (stdout + stderr).Trim();
            var entries = PtxasResources.Parse(output);
            return new PtxasResult(exitCode, output, entries.Count == 1 ? entries[0].Resources : null);
        }
        finally
        {
            File.Delete(cubin);
        }
    }
}
