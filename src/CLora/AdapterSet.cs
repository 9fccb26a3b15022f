using System.Text;
using System.Text.RegularExpressions;
using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.CLora;

/// <summary>
/// The fresh LoRA adapters of one task, hooked into the linear layers of a model (the UNet's cross-attention K/V by
/// default). End of a task (docs/clora-spec.md §3): <see cref="PastDeltas.Accumulate"/> (P += up·down), then
/// <see cref="Fold"/> (W += up·down, adapters removed); the next task attaches a new set. Disposing detaches.
/// </summary>
public sealed class AdapterSet : IDisposable
{
    private readonly List<AdaptedLayer> layers;

    private AdapterSet(List<AdaptedLayer> layers) => this.layers = layers;

    /// <summary>The adapted layers, in the model's module order; empty once detached.</summary>
    public IReadOnlyList<AdaptedLayer> Layers => layers;

    /// <summary>The number of trainable values, Σ r·(in + out) (49,536·r for the 32 K/V matrices of SD 1.x).</summary>
    public long TrainableParameterCount => layers.Sum(l => l.Adapter.ParameterCount);

    /// <summary>
    /// The number of fp32 values a continual run keeps across tasks for these layers: the dense past delta P, Σ out·in
    /// (the regulariser's M = P⊙P is derived from it). It does not grow with the number of tasks.
    /// </summary>
    public long StoredParameterCount => layers.Sum(l => (long)l.Layer.OutFeatures * l.Layer.InFeatures);

    /// <summary>Every factor with its name (<c>{layer}.lora_down</c>, <c>{layer}.lora_up</c>), for the optimizer and exporters.</summary>
    public IEnumerable<(string Name, Var Value)> NamedParameters() =>
        layers.SelectMany(l => new[] { (l.Name + ".lora_down", l.Adapter.Down), (l.Name + ".lora_up", l.Adapter.Up) });

    /// <summary>
    /// The factors as host arrays, by layer name: down [r, in] and up [out, r] with their shapes, the form
    /// <see cref="Library.ConceptLibrary.AddTask"/> stores (waits for the device).
    /// </summary>
    public IReadOnlyDictionary<string, (float[] Down, int[] DownShape, float[] Up, int[] UpShape)> ReadFactors() =>
        layers.ToDictionary(l => l.Name, l => (l.Adapter.Down.Value.ToFloatArray(), l.Adapter.Down.Shape.ToArray(),
            l.Adapter.Up.Value.ToFloatArray(), l.Adapter.Up.Shape.ToArray()), StringComparer.Ordinal);

    /// <summary>
    /// Attaches a fresh <see cref="LoraAdapter"/> to every linear layer of <paramref name="model"/> whose diffusers name
    /// matches <see cref="AdapterOptions.TargetPattern"/>. Each layer's down factor is drawn from the options' seed and
    /// a stream derived from the layer's name, so a layer's start does not depend on which other layers are adapted.
    /// </summary>
    /// <exception cref="ArgumentException">No layer matches, or a matching layer already has an adapter.</exception>
    public static AdapterSet Attach(Module model, AdapterOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        var pattern = new Regex(options.TargetPattern, RegexOptions.CultureInvariant);
        var targets = model.Descendants().OfType<LinearLayer>().Where(l => pattern.IsMatch(l.Name)).ToList();
        if (targets.Count == 0)
            throw new ArgumentException($"no linear layer's name matches the adapter target pattern '{options.TargetPattern}'.", nameof(options));
        if (targets.FirstOrDefault(l => l.Adapter is not null) is { } taken)
            throw new ArgumentException($"{taken.Name} already has an adapter; fold or detach the previous task's set first.", nameof(model));
        var set = new AdapterSet(new List<AdaptedLayer>(targets.Count));
        try
        {
            foreach (var layer in targets)
            {
                var adapter = LoraAdapter.Fresh(layer.Weight.Device, layer.Name, layer.InFeatures, layer.OutFeatures, options.Rank, options.Seed, Stream(layer.Name));
                layer.Adapter = adapter;
                set.layers.Add(new AdaptedLayer(layer.Name, layer, adapter));
            }
            return set;
        }
        catch
        {
            set.Detach();
            throw;
        }
    }

    /// <summary>
    /// Folds every adapter into its layer's weight, W ← W + up·down in fp32 on the device, then detaches the set, so
    /// the model computes the same function without the adapter branch. An F32 weight is updated in place; an F16
    /// weight is replaced by an F32 copy holding the sum (rounding it back to F16 would lose the small ΔW).
    /// </summary>
    /// <exception cref="InvalidOperationException">A layer has an F16 weight with an F16 bias (an F32 weight cannot
    /// take an F16 bias); nothing is folded then.</exception>
    public void Fold()
    {
        foreach (var l in layers)
            if (l.Layer.Weight.Value.DType == DType.F16 && l.Layer.Bias is { Value.DType: DType.F16 })
                throw new InvalidOperationException($"{l.Name}: cannot fold into an F16 weight with an F16 bias; load the model with F32 weights.");
        foreach (var (name, layer, adapter) in layers)
        {
            var weight = layer.Weight.Value;
            if (weight.DType == DType.F32)
            {
                adapter.AddDeltaTo(weight);
                continue;
            }
            var widened = Widened(weight);
            adapter.AddDeltaTo(widened);
            layer.SetWeight(Var.Constant(widened, name + ".weight"));
        }
        Detach();
    }

    /// <summary>Removes the adapters from their layers and releases them (the model is as before <see cref="Attach"/>).</summary>
    public void Detach()
    {
        foreach (var (_, layer, adapter) in layers)
        {
            if (ReferenceEquals(layer.Adapter, adapter)) layer.Adapter = null;
            adapter.Dispose();
        }
        layers.Clear();
    }

    public void Dispose() => Detach();

    /// <summary>An F32 copy of an F16 matrix: gathering every row widens it exactly.</summary>
    private static Tensor Widened(Tensor weight)
    {
        using var rows = Tensor.FromHost(weight.Device, Enumerable.Range(0, weight.Shape[0]).ToArray(), weight.Shape[0]);
        return Embedding.Gather(rows, weight);
    }

    /// <summary>The Philox stream of a layer: FNV-1a of its name.</summary>
    private static ulong Stream(string name)
    {
        ulong hash = 14695981039346656037;
        foreach (byte b in Encoding.UTF8.GetBytes(name)) hash = (hash ^ b) * 1099511628211;
        return hash;
    }
}
