using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.CLora;

/// <summary>
/// C-LoRA's memory of past tasks (docs/clora-spec.md §2–3), per adapted layer: P = Σ of the past tasks' up·down
/// (fp32 [out, in], accumulated exactly rather than recovered as W − W_init) and the regulariser weights M = P⊙P,
/// kept beside it. A layer without P (every layer on task 1) has no regulariser term. Owns its tensors.
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
    /// a layer seen for the first time), then M = P⊙P.
    /// </summary>
    /// <exception cref="ArgumentException">A stored P does not have its layer's [out, in] shape.</exception>
    public void Accumulate(AdapterSet adapters)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        foreach (var (name, layer, adapter) in adapters.Layers)
        {
            if (!layers.TryGetValue(name, out var entry))
            {
                var zero = Tensor.Zeros(adapter.Up.Device, DType.F32, layer.OutFeatures, layer.InFeatures);
                entry = (zero, Tensor.Zeros(adapter.Up.Device, DType.F32, layer.OutFeatures, layer.InFeatures));
                layers[name] = entry;
            }
            adapter.AddDeltaTo(entry.Delta);
            Elementwise.Mul(entry.Delta, entry.Delta, entry.Mask);
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
