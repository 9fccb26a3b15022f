namespace IlgpuDiffusion.Model.Configs;

/// <summary>
/// A model config (a diffusers or transformers <c>config.json</c>) cannot be used: the file is missing or not JSON, a
/// required key is absent, a value has the wrong type or range, or it asks for an architecture this engine does not
/// build. The message names the file and, where one is involved, the key.
/// </summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string filePath, string? key, string problem, Exception? inner = null)
        : base(key is null ? $"config '{filePath}': {problem}" : $"config '{filePath}', key '{key}': {problem}", inner)
    {
        FilePath = filePath;
        Key = key;
    }

    /// <summary>The config file, or a description such as "built-in SD 1.5 defaults" for configs not read from a file.</summary>
    public string FilePath { get; }

    /// <summary>The key the problem concerns, or null when it concerns the file as a whole.</summary>
    public string? Key { get; }
}
