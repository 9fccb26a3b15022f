using System.Collections;

namespace IlgpuDiffusion.Kernels;

/// <summary>An immutable row-major tensor shape. Every dimension is positive; the element count fits an int.</summary>
public sealed class Shape : IEquatable<Shape>, IReadOnlyList<int>
{
    private readonly int[] dims;

    public Shape(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        long count = 1;
        foreach (var d in dims)
        {
            if (d <= 0) throw new ArgumentException($"shape [{string.Join(", ", dims)}] has a dimension that is not positive.");
            count *= d;
            if (count > int.MaxValue)
                throw new ArgumentException($"shape [{string.Join(", ", dims)}] has more than {int.MaxValue} elements.");
        }
        this.dims = (int[])dims.Clone();
        ElementCount = (int)count;
    }

    /// <summary>The number of elements (the product of the dimensions).</summary>
    public int ElementCount { get; }

    /// <summary>The number of dimensions.</summary>
    public int Rank => dims.Length;

    /// <summary>The extent of <paramref name="axis"/>; a negative axis counts from the end (-1 is the last).</summary>
    public int this[int axis] => dims[axis < 0 ? dims.Length + axis : axis];

    /// <summary>The extent at <paramref name="axis"/>, so <c>shape[^1]</c> is the last dimension (not an element count).</summary>
    public int this[Index axis] => dims[axis];

    int IReadOnlyCollection<int>.Count => dims.Length;

    /// <summary>A copy of the dimensions.</summary>
    public int[] ToArray() => (int[])dims.Clone();

    public bool Equals(Shape? other) => other is not null && dims.AsSpan().SequenceEqual(other.dims);

    public override bool Equals(object? obj) => Equals(obj as Shape);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var d in dims) hash.Add(d);
        return hash.ToHashCode();
    }

    public override string ToString() => $"[{string.Join(", ", dims)}]";

    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)dims).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
