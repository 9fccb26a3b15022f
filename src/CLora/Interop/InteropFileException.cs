namespace IlgpuDiffusion.CLora.Interop;

/// <summary>
/// A LoRA or textual-inversion file cannot be read or written: it is a pickle, it is not a safetensors file of a
/// known layout, or its tensors do not fit together. The message names the file, the tensor and what was expected.
/// </summary>
public sealed class InteropFileException : Exception
{
    public InteropFileException(string path, string problem, Exception? inner = null)
        : base($"'{path}': {problem}", inner)
    {
        FilePath = path;
    }

    /// <summary>The file the problem concerns.</summary>
    public string FilePath { get; }
}
