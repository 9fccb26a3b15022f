namespace IlgpuDiffusion.Model.Pipelines;

/// <summary>
/// A float32 tensor on the host, row-major, as the pipeline's public inputs and outputs hold latents and images:
/// NCHW like diffusers (<c>[N, 4, h, w]</c> latents, <c>[N, 3, H, W]</c> images).
/// </summary>
public sealed class HostTensor
{
    /// <summary>Wraps <paramref name="values"/> (taken, not copied), which must hold the product of <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentException">A non-positive dimension, or a value count that does not match the shape.</exception>
    public HostTensor(float[] values, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length == 0 || shape.Any(d => d <= 0))
            throw new ArgumentException($"shape [{string.Join(", ", shape)}]: every dimension must be positive.", nameof(shape));
        long count = shape.Aggregate(1L, (product, d) => product * d);
        if (count != values.LongLength)
            throw new ArgumentException($"a [{string.Join(", ", shape)}] tensor has {count} values, got {values.LongLength}.", nameof(values));
        Values = values;
        Shape = shape;
    }

    public float[] Values { get; }

    public IReadOnlyList<int> Shape { get; }

    /// <summary>The values of item <paramref name="index"/> along the first axis (e.g. one image of a batch).</summary>
    public ReadOnlySpan<float> Item(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Shape[0]);
        int size = Values.Length / Shape[0];
        return Values.AsSpan(index * size, size);
    }

    public override string ToString() => $"[{string.Join(", ", Shape)}]";
}
