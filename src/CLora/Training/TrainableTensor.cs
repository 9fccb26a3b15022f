using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.CLora.Training;

/// <summary>
/// One tensor (or the token's row of one) that the optimizer steps, with its AdamW moments m and v (owned, zero at
/// the start). <see cref="Owner"/> is the leaf whose gradient it reads and clears.
/// </summary>
internal sealed class TrainableTensor : IDisposable
{
    private readonly Func<TensorSlice> value;
    private readonly Func<TensorSlice?> gradient;

    public TrainableTensor(string name, Var owner, bool isToken, Func<TensorSlice> value, Func<TensorSlice?> gradient)
    {
        (Name, Owner, IsToken, this.value, this.gradient) = (name, owner, isToken, value, gradient);
        int count = value().Count;
        M = Tensor.Zeros(owner.Device, DType.F32, count);
        V = Tensor.Zeros(owner.Device, DType.F32, count);
    }

    /// <summary>A whole trainable leaf (an adapter factor or a K/V weight).</summary>
    public static TrainableTensor Whole(string name, Var leaf) =>
        new(name, leaf, false, () => leaf.Value, () => leaf.Grad is { } g ? new TensorSlice(g, 0, g.Count) : (TensorSlice?)null);

    public string Name { get; }

    public Var Owner { get; }

    /// <summary>Whether this is the concept token's row (the token learning rate applies).</summary>
    public bool IsToken { get; }

    /// <summary>The values stepped.</summary>
    public TensorSlice Value => value();

    /// <summary>The accumulated gradient, or null when backward did not reach the tensor.</summary>
    public TensorSlice? Gradient => gradient();

    /// <summary>AdamW's first moment.</summary>
    public Tensor M { get; }

    /// <summary>AdamW's second moment.</summary>
    public Tensor V { get; }

    /// <summary>The stepped values on the host.</summary>
    public float[] Read() => Read(Value);

    /// <summary>Overwrites the stepped values (resuming from a checkpoint).</summary>
    public void Write(float[] values)
    {
        var slice = Value;
        if (values.Length != slice.Count) throw new InvalidDataException($"{Name}: {values.Length} values for {slice.Count}.");
        var all = slice.Tensor.ToFloatArray();
        values.CopyTo(all, slice.Offset);
        slice.Tensor.CopyFromHost(all);
    }

    public void Dispose()
    {
        M.Dispose();
        V.Dispose();
    }

    private static float[] Read(TensorSlice slice) => slice.Tensor.ToFloatArray().AsSpan(slice.Offset, slice.Count).ToArray();
}
