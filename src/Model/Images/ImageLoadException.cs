namespace IlgpuDiffusion.Model.Images;

/// <summary>
/// An image file could not be read: it is corrupt or truncated, in a format ImageSharp does not know, or larger than
/// the decode limit. The message names the file and what was expected. It is an <see cref="IOException"/>
/// (<see cref="InvalidDataException"/> is sealed), so code that handles unreadable files handles it too.
/// </summary>
public sealed class ImageLoadException : IOException
{
    public ImageLoadException(string filePath, string problem, Exception? inner = null)
        : base($"cannot read image '{filePath}': {problem}", inner)
    {
        FilePath = filePath;
    }

    /// <summary>The file that could not be read.</summary>
    public string FilePath { get; }
}
