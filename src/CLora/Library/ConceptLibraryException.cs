namespace IlgpuDiffusion.CLora.Library;

/// <summary>
/// A concept library cannot be opened or used: a file is missing, malformed, modified since it was written, or does
/// not match the rest of the library, or the library belongs to another base model. The message names the file and
/// what was expected. It is an <see cref="IOException"/> so code that handles unreadable files handles it too.
/// </summary>
public sealed class ConceptLibraryException : IOException
{
    public ConceptLibraryException(string path, string problem, Exception? inner = null)
        : base($"concept library '{path}': {problem}", inner)
    {
        FilePath = path;
    }

    /// <summary>The file or folder the problem concerns.</summary>
    public string FilePath { get; }
}
