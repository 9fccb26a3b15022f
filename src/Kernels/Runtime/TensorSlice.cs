using ILGPU;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// A contiguous run of elements of a tensor, in row-major order: <see cref="Count"/> elements from element
/// <see cref="Offset"/>. Ops that update part of a tensor (for instance only the concept token's row of the token
/// embedding table in the optimizer) take slices; a whole tensor converts implicitly.
/// </summary>
public readonly struct TensorSlice
{
    /// <summary>A slice of <paramref name="tensor"/>; the range must lie inside it and hold at least one element.</summary>
    /// <exception cref="ArgumentException">The range is empty or outside the tensor.</exception>
    public TensorSlice(Tensor tensor, int offset, int count)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (offset < 0 || count <= 0 || (long)offset + count > tensor.Count)
            throw new ArgumentException(
                $"slice of {count} element(s) at offset {offset} does not fit tensor {tensor.Shape} ({tensor.Count} elements).");
        Tensor = tensor;
        Offset = offset;
        Count = count;
    }

    /// <summary>The tensor the elements belong to (null only for <c>default(TensorSlice)</c>).</summary>
    public Tensor Tensor { get; }

    /// <summary>Index of the first element, counted in elements from the start of the tensor.</summary>
    public int Offset { get; }

    /// <summary>The number of elements.</summary>
    public int Count { get; }

    /// <summary>Row <paramref name="row"/> of a tensor seen as [Shape[0], rest], e.g. one token's embedding.</summary>
    /// <exception cref="ArgumentException">The row index is outside the first dimension.</exception>
    public static TensorSlice Row(Tensor tensor, int row)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        int rows = tensor.Shape[0];
        if (row < 0 || row >= rows)
            throw new ArgumentException($"row {row} is outside tensor {tensor.Shape} (rows 0..{rows - 1}).", nameof(row));
        int width = tensor.Count / rows;
        return new TensorSlice(tensor, row * width, width);
    }

    /// <summary>The whole tensor.</summary>
    public static implicit operator TensorSlice(Tensor tensor) => new(tensor, 0, tensor.Count);

    /// <summary>The sliced elements of an F32 tensor, for kernel launchers.</summary>
    public ArrayView<float> F32View => Tensor.F32View.SubView(Offset, Count);

    public override string ToString() => $"{Tensor}[{Offset}..{Offset + Count})";
}
