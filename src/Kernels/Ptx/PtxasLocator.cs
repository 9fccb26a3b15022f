using System.ComponentModel;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Finds NVIDIA's <c>ptxas</c>: an explicit path, else <c>$PTXAS</c>, else the path printed by
/// <c>../shared/tools/get-ptxas.sh</c> beside the checkout (the folder holding <c>IlgpuDiffusion.sln</c>, found by
/// walking up from the current directory and from the application's base directory).
/// </summary>
public static class PtxasLocator
{
    /// <summary>The environment variable that names a ptxas binary.</summary>
    public const string EnvironmentVariable = "PTXAS";

    private const string SolutionFile = "IlgpuDiffusion.sln";
    private static readonly string[] ScriptPath = ["..", "shared", "tools", "get-ptxas.sh"];

    /// <summary>The full path of a ptxas that runs.</summary>
    /// <param name="explicitPath">A path given by the user; when set, nothing else is tried.</param>
    /// <exception cref="FileNotFoundException">No ptxas was found, with everything that was tried.</exception>
    public static string Locate(string? explicitPath = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath))
            return Check(explicitPath, "--ptxas");
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
            return Check(fromEnvironment, $"${EnvironmentVariable}");

        var script = FindScript();
        if (script is null)
            throw new FileNotFoundException(
                $"ptxas not found: no --ptxas path, no ${EnvironmentVariable}, and no {Path.Combine(ScriptPath)} beside a folder " +
                $"holding {SolutionFile} above '{Directory.GetCurrentDirectory()}' or '{AppContext.BaseDirectory}'.");
        return Check(RunScript(script), script);
    }

    /// <summary>The script beside the first solution folder above the current or the base directory, if any.</summary>
    private static string? FindScript() =>
        new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory }
            .Select(FindSolutionFolder)
            .OfType<string>()
            .Select(folder => Path.GetFullPath(Path.Combine([folder, .. ScriptPath])))
            .FirstOrDefault(File.Exists);

    private static string? FindSolutionFolder(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, SolutionFile)))
                return dir.FullName;
        return null;
    }

    /// <summary>Runs get-ptxas.sh (it may download and unpack ptxas once) and returns the path it prints.</summary>
    private static string RunScript(string script)
    {
        var (exitCode, stdout, stderr) = ProcessRunner.Run("bash", [script]);
        var path = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (exitCode != 0 || path is null)
            throw new FileNotFoundException($"ptxas not found: {script} failed (exit code {exitCode}): {stderr.Trim()}");
        return path;
    }

    private static string Check(string path, string source)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"ptxas not found: {source} names '{full}', which does not exist.", full);
        try
        {
            var (exitCode, _, stderr) = ProcessRunner.Run(full, ["--version"]);
            if (exitCode != 0)
                throw new FileNotFoundException($"ptxas at '{full}' (from {source}) does not run: exit code {exitCode}: {stderr.Trim()}", full);
        }
        catch (Win32Exception e)
        {
            throw new FileNotFoundException($"ptxas at '{full}' (from {source}) cannot be started: {e.Message}", full, e);
        }
        return full;
    }
}
