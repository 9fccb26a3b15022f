using IlgpuDiffusion.Model.SafeTensors;

namespace IlgpuDiffusion.Model.Loading;

/// <summary>
/// One tensor of a <see cref="WeightSet"/>: its diffusers <paramref name="Name"/>, the file tensor it is read from,
/// and its <paramref name="Shape"/> under that name (the file's, or a squeezed view of the same row-major data).
/// </summary>
internal sealed record WeightEntry(string Name, SafeTensorsReader Reader, SafeTensorInfo Source, int[] Shape)
{
    /// <summary>"'file name' (F32 [a, b]) in path", for reports.</summary>
    public string Describe() => $"'{Source.Name}' ({Source.DType} [{string.Join(", ", Source.Shape)}]) in {Reader.Path}";
}
