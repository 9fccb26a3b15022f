using IlgpuDiffusion.CLora.Library;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.CLora;

/// <summary>
/// C-LoRA's memory of past tasks (docs/clora-spec.md §2–3), per adapted layer: P = Σ of the past tasks' up·down
/// (fp32 [out, in], accumulated directly rather than recovered as W − W_init) and the regulariser weights M = P⊙P,
/// kept beside it on the device. A layer without P (every layer on task 1) has no regulariser term. P is summed
/// exactly as <see cref="ConceptLibrary.AddTask"/> sums it (float64, rounded once), so the P a run accumulates and the
/// P a resumed run reads back with <see cref="FromLibrary"/> are the same bits. Owns its tensors.
/// </summary>
public sealed class PastDeltas : IDisposable
{
    private readonly Dictionary<string, (Tensor Delta, Tensor Mask)> layers = new(StringComparer.Ordinal);

    /// <summary>The names of the layers that have a past delta.</summary>
    public IReadOnlyCollection<string> Layers => layers.Keys;

    /// <summary>P of <paramref name="layer"/> [out, in], or null when it has none.</summary>
    public Tensor? Delta(string layer) => layers.TryGetValue(layer, out var entry) ? entry.Delta : null;

    /// <summary>M = P⊙P of <paramref name="layer"/>, or null when it has no P.</summary>
    public Tensor? Mask(string layer) => layers.TryGetValue(layer, out var entry) ? entry.Mask : null;

    /// <summary>The masks of <paramref name="adapters"/>' layers, in their order (null where a layer has no P).</summary>
    public IReadOnlyList<Tensor?> MasksFor(AdapterSet adapters)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        return [.. adapters.Layers.Select(l => Mask(l.Name))];
    }

    /// <summary>The past deltas a concept library holds (none before its first task) on <paramref name="device"/>.</summary>
    /// <exception cref="InvalidOperationException">The library stores dense K/V deltas, which are not LoRA past deltas.</exception>
    public static PastDeltas FromLibrary(ConceptLibrary library, Device device)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(device);
        if (library.Settings.Method == LibraryMethod.KvFinetune)
            throw new InvalidOperationException($"library '{library.Folder}' holds K/V fine-tuning deltas, not the LoRA deltas P of C-LoRA.");
        var past = new PastDeltas();
        try
        {
            foreach (var layer in library.Layers)
                past.Set(layer.Name, Tensor.FromHost(device, library.AccumulatedDelta(layer.Name), layer.Out, layer.In));
            return past;
        }
        catch
        {
            past.Dispose();
            throw;
        }
    }

    /// <summary>Sets P of <paramref name="layer"/> (e.g. read from a concept library), taking ownership, and derives M.</summary>
    /// <exception cref="ArgumentException"><paramref name="delta"/> is not an F32 matrix.</exception>
    public void Set(string layer, Tensor delta)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(delta);
        if (delta.DType != DType.F32 || delta.Shape.Rank != 2)
            throw new ArgumentException($"past delta of {layer} is {delta}; expected F32 [out, in].", nameof(delta));
        Remove(layer);
        layers[layer] = (delta, Squared(delta));
    }

    /// <summary>
    /// End of a task, before <see cref="AdapterSet.Fold"/>: P += up·down for every adapted layer (P starts at zero for
    /// a layer seen for the first time), summed on the host in float64 and rounded once, then M = P⊙P.
    /// </summary>
    /// <exception cref="ArgumentException">A stored P does not have its layer's [out, in] shape.</exception>
    public void Accumulate(AdapterSet adapters)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        foreach (var (name, layer, adapter) in adapters.Layers)
        {
            int rows = layer.OutFeatures, columns = layer.InFeatures;
            var old = Delta(name);
            if (old is not null && !old.Shape.Equals(new Shape(rows, columns)))
                throw new ArgumentException($"past delta of {name} is {old.Shape}; the layer is [{rows}, {columns}].", nameof(adapters));
            var sum = DeltaAccumulator.AddProduct(old?.ToFloatArray() ?? new float[rows * columns],
                adapter.Up.Value.ToFloatArray(), adapter.Down.Value.ToFloatArray(), rows, adapter.Rank, columns);
            Set(name, Tensor.FromHost(adapter.Up.Device, sum, rows, columns));
        }
    }

    /// <summary>Releases every P and M.</summary>
    public void Dispose()
    {
        foreach (var name in layers.Keys.ToList()) Remove(name);
    }

    private void Remove(string layer)
    {
        if (!layers.Remove(layer, out var entry)) return;
        entry.Delta.Dispose();
        entry.Mask.Dispose();
    }

    private static Tensor Squared(Tensor p)
    {
        var m = Tensor.Empty(p.Device, DType.F32, p.Shape.ToArray());
        Elementwise.Mul(p, p, m);
        return m;
    }
}
