namespace IlgpuDiffusion.Tests.Support;

/// <summary>
/// Locates the golden fixtures: <c>$IDF_FIXTURES</c>, or <c>../shared/fixtures</c> relative to the repository root
/// (the folder holding IlgpuDiffusion.sln, found by walking up from the test binaries).
/// </summary>
public static class Fixtures
{
    private static readonly Lazy<string> root = new(Locate);

    public static string Root => root.Value;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(System.IO.Path.Combine(dir.FullName, "IlgpuDiffusion.sln"))) return dir.FullName;
            throw new InvalidOperationException($"IlgpuDiffusion.sln not found above {AppContext.BaseDirectory}.");
        }
    }

    private static string Locate()
    {
        var fromEnv = Environment.GetEnvironmentVariable("IDF_FIXTURES");
        var dir = string.IsNullOrWhiteSpace(fromEnv)
            ? System.IO.Path.GetFullPath(System.IO.Path.Combine(RepositoryRoot, "..", "shared", "fixtures"))
            : System.IO.Path.GetFullPath(fromEnv);
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"fixtures not found at {dir} (set IDF_FIXTURES or place shared/ beside the repository).");
        return dir;
    }
}
