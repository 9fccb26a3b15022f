namespace IlgpuDiffusion.Model.SafeTensors;

/// <summary>
/// One tensor of a safetensors file as its validated header describes it: name, dtype, shape, and where its
/// bytes lie in the data section. A scalar has an empty <see cref="Shape"/> and one element; a shape with a 0
/// dimension has no elements and no bytes.
/// </summary>
public sealed class SafeTensorInfo
{
    internal SafeTensorInfo(string name, SafeTensorsDType dtype, int[] shape, long elementCount, long dataOffset)
    {
        Name = name;
        DType = dtype;
        Shape = Array.AsReadOnly(shape);
        ElementCount = elementCount;
        DataOffset = dataOffset;
    }

    public string Name { get; }

    /// <summary>The element type stored in the file.</summary>
    public SafeTensorsDType DType { get; }

    /// <summary>The dimensions, outermost first; empty for a scalar.</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>The product of the dimensions: 1 for a scalar, 0 when a dimension is 0.</summary>
    public long ElementCount { get; }

    /// <summary>The first byte of the tensor, counted from the start of the data section (after the header).</summary>
    public long DataOffset { get; }

    /// <summary>The number of bytes the tensor occupies in the file.</summary>
    public long ByteLength => ElementCount * DType.Size();

    public override string ToString() => $"{Name}: {DType} [{string.Join(", ", Shape)}]";
}
