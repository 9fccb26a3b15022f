namespace IlgpuDiffusion.Model.SafeTensors;

/// <summary>
/// A safetensors file is malformed: its header length, JSON, a dtype, a shape, or the layout of the tensors'
/// byte ranges is invalid. The message names the file and, where one is involved, the tensor. It is an
/// <see cref="IOException"/> (<see cref="InvalidDataException"/> is sealed), so code that handles unreadable
/// files handles it too.
/// </summary>
public sealed class SafeTensorsFormatException : IOException
{
    public SafeTensorsFormatException(string filePath, string? tensorName, string problem, Exception? inner = null)
        : base(Describe(filePath, tensorName, problem), inner)
    {
        FilePath = filePath;
        TensorName = tensorName;
    }

    /// <summary>The file that failed validation.</summary>
    public string FilePath { get; }

    /// <summary>The tensor the problem concerns, or null when it concerns the file as a whole.</summary>
    public string? TensorName { get; }

    private static string Describe(string filePath, string? tensorName, string problem) => tensorName is null
        ? $"invalid safetensors file '{filePath}': {problem}"
        : $"invalid safetensors file '{filePath}', tensor '{tensorName}': {problem}";
}
