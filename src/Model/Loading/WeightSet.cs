using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.SafeTensors;

namespace IlgpuDiffusion.Model.Loading;

/// <summary>
/// The named weights of one component (unet, vae or text_encoder) under their diffusers names, read lazily from
/// the memory-mapped checkpoint: a model class takes each weight once while it is built, then calls
/// <see cref="Complete"/>. Layout: PyTorch's, unchanged (linear [out, in]; conv [Cout, Cin, kh, kw], which the model
/// repacks with <c>Conv2d.RepackWeight</c>; the VAE mid-attention's q/k/v/out are linear [C, C] whatever the file
/// held). Device dtype rule: integer tensors load as I32; float tensors of rank ≥ 2 (linear and conv weights,
/// embedding tables) load as <see cref="WeightDType"/>; rank-1 float tensors (biases, norm scales and shifts) always
/// load as F32, since they are small and sit where precision matters. F16 and BF16 files convert on the way
/// (widening is exact, narrowing rounds to nearest even once).
/// <para>Problems never stop the build: a missing tensor or one of the wrong shape is recorded and
/// <see cref="Take"/> returns zeros of the expected shape, so one pass collects every problem; <see cref="Complete"/>
/// then throws a <see cref="WeightsMismatchException"/> listing them all, with unexpected tensors. Keep the owning
/// <see cref="Checkpoint"/> open while taking weights.</para>
/// </summary>
public sealed class WeightSet
{
    private readonly Dictionary<string, WeightEntry> entries = new(StringComparer.Ordinal);
    private readonly List<string> duplicates = [];
    private readonly HashSet<string> used = new(StringComparer.Ordinal);
    private readonly List<string> missing = [];
    private readonly List<ShapeMismatch> wrongShapes = [];
    private readonly RandomWeights? random;

    internal WeightSet(string component, Device device, DType weightDType, IEnumerable<WeightEntry> tensors)
    {
        if (!weightDType.IsFloat()) throw new ArgumentException($"weights load as F32 or F16, not {weightDType}.", nameof(weightDType));
        Component = component;
        Device = device;
        WeightDType = weightDType;
        foreach (var entry in tensors)
            if (!entries.TryAdd(entry.Name, entry)) duplicates.Add($"{entry.Source.Name} (a second source of '{entry.Name}', which {entries[entry.Name].Describe()} provides)");
    }

    private WeightSet(string component, Device device, DType weightDType, RandomWeights random)
        : this(component, device, weightDType, [])
    {
        this.random = random;
    }

    /// <summary>
    /// A file-less set for <paramref name="component"/> that gives every weight a model takes, drawn from
    /// <paramref name="seed"/> (the same values for a seed and name on every run and device; see <see cref="RandomWeights"/>).
    /// </summary>
    public static WeightSet Random(string component, Device device, DType weightDType, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(component);
        ArgumentNullException.ThrowIfNull(device);
        return new WeightSet(component, device, weightDType, new RandomWeights(seed));
    }

    /// <summary>"unet", "vae" or "text_encoder".</summary>
    public string Component { get; }

    public Device Device { get; }

    /// <summary>The dtype of rank ≥ 2 float weights on the device: F32 or F16.</summary>
    public DType WeightDType { get; }

    /// <summary>The diffusers names of the tensors, sorted.</summary>
    public IReadOnlyList<string> Names => [.. entries.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Whether the set can give <paramref name="name"/> (a random set gives any name).</summary>
    public bool Contains(string name) => random is not null || entries.ContainsKey(name);

    /// <summary>The shape of <paramref name="name"/> in PyTorch layout.</summary>
    public IReadOnlyList<int> ShapeOf(string name) => Entry(name).Shape;

    /// <summary>The file tensor <paramref name="name"/> is read from, with its dtype, shape and file.</summary>
    public string SourceOf(string name) => Entry(name).Describe();

    /// <summary>The dtype <see cref="Take"/> gives <paramref name="name"/> unless told otherwise (see the rule above).</summary>
    public DType DeviceDTypeOf(string name)
    {
        var entry = Entry(name);
        return entry.Source.DType.IsFloat() ? DefaultDType(entry.Shape.Length) : DType.I32;
    }

    /// <summary>A host copy of a float tensor as F32, for inspection; it does not count as taken.</summary>
    public float[] ReadF32(string name)
    {
        var entry = Entry(name);
        return entry.Reader.ReadF32(entry.Source.Name);
    }

    /// <summary>
    /// Loads <paramref name="name"/> onto the device as <paramref name="dtype"/> (default: the rule above) after
    /// checking its shape. When it is missing or its shape differs, the problem is recorded for
    /// <see cref="Complete"/> and zeros of <paramref name="expectedShape"/> are returned instead.
    /// </summary>
    public Tensor Take(string name, ReadOnlySpan<int> expectedShape, DType? dtype = null)
    {
        if (random is not null)
        {
            used.Add(name);
            return random.Create(Device, name, expectedShape.ToArray(), dtype ?? DefaultDType(expectedShape.Length));
        }
        if (!entries.TryGetValue(name, out var entry))
        {
            missing.Add(name);
            return Tensor.Zeros(Device, dtype ?? DefaultDType(expectedShape.Length), expectedShape.ToArray());
        }
        used.Add(name);
        if (!expectedShape.SequenceEqual(entry.Shape))
        {
            wrongShapes.Add(new ShapeMismatch(name, entry.Describe(), entry.Shape, expectedShape.ToArray()));
            return Tensor.Zeros(Device, dtype ?? DefaultDType(expectedShape.Length), expectedShape.ToArray());
        }
        return Load(entry, dtype ?? DeviceDTypeOf(name));
    }

    /// <summary>Like <see cref="Take"/> for an optional weight: null, and no problem recorded, when the checkpoint lacks it.</summary>
    public Tensor? TryTake(string name, ReadOnlySpan<int> expectedShape, DType? dtype = null) =>
        Contains(name) ? Take(name, expectedShape, dtype) : null;

    /// <summary>Marks a tensor the model deliberately does not use (e.g. <c>position_ids</c>) so it is not reported as unexpected.</summary>
    public void Skip(string name) => used.Add(name);

    /// <summary>The problems so far: missing and wrong-shaped takes, and the tensors not taken or skipped yet.</summary>
    public WeightReport Report() => new(Component, [.. missing],
        [.. entries.Values.Where(e => !used.Contains(e.Name)).Select(e => e.Source.Name).Concat(duplicates).Order(StringComparer.Ordinal)],
        [.. wrongShapes]);

    /// <summary>
    /// Call after the model took its weights: throws a <see cref="WeightsMismatchException"/> when a tensor was
    /// missing or had the wrong shape, or (unless <paramref name="allowUnexpected"/>) one was never taken.
    /// </summary>
    public void Complete(bool allowUnexpected = false)
    {
        var report = Report();
        if (!report.Passes(allowUnexpected)) throw new WeightsMismatchException([report]);
    }

    private DType DefaultDType(int rank) => rank >= 2 ? WeightDType : DType.F32;

    private WeightEntry Entry(string name) => entries.TryGetValue(name, out var entry)
        ? entry
        : throw new KeyNotFoundException($"{Component} has no tensor '{name}' ({entries.Count} tensors).");

    private Tensor Load(WeightEntry entry, DType dtype)
    {
        var (reader, source) = (entry.Reader, entry.Source.Name);
        return dtype switch
        {
            DType.F32 => Tensor.FromHost(Device, reader.ReadF32(source), entry.Shape),
            DType.F16 => Tensor.FromHost(Device, reader.ReadF16(source), entry.Shape),
            DType.I32 => Tensor.FromHost(Device, reader.ReadI32(source), entry.Shape),
            _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
        };
    }
}
