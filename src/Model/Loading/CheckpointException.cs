namespace IlgpuDiffusion.Model.Loading;

/// <summary>
/// A checkpoint cannot be opened: the path does not exist, a diffusers folder lacks a component, a file is a pickle
/// checkpoint (refused: unpickling runs code), a single file's architecture cannot be inferred without
/// <c>--config</c>, or no tokenizer is available. The message names the path and says what to do.
/// </summary>
public sealed class CheckpointException : Exception
{
    public CheckpointException(string path, string problem, Exception? inner = null)
        : base($"'{path}': {problem}", inner)
    {
        FilePath = path;
    }

    /// <summary>The file or folder the problem concerns.</summary>
    public string FilePath { get; }
}
