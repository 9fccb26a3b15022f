using System.Reflection;

namespace IlgpuDiffusion.CLora.Benchmarking;

/// <summary>The source revision a benchmark ran at: <c>IDF_COMMIT</c> when set, else the git hash the build stamped into the informational version, else null.</summary>
public static class BuildInfo
{
    /// <summary>The environment variable that names the commit (for builds made outside a git checkout, e.g. a GPU bundle).</summary>
    public const string CommitVariable = "IDF_COMMIT";

    public static string? Commit()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(CommitVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment)) return fromEnvironment.Trim();
        var version = typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        int plus = version?.IndexOf('+') ?? -1;
        return plus >= 0 ? version![(plus + 1)..] : null;
    }
}
