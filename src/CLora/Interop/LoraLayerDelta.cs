namespace IlgpuDiffusion.CLora.Interop;

/// <summary>
/// One adapted layer of a LoRA in a uniform form, whatever file dialect it came from: ΔW = scale · up · down with
/// down [r, in…] and up [out, r] (or [out, r, 1, 1]), scale = alpha / r (alpha absent: scale 1). A linear layer has
/// down [r, in]; a LoCon convolution has down [r, Cin, kh, kw] and up [Cout, r, 1, 1], so ΔW [Cout, Cin, kh, kw] is
/// up · down with down's trailing dimensions flattened. The factors are F32 host arrays, row-major, kept (not copied)
/// by the constructor: do not change them afterwards.
/// </summary>
public sealed class LoraLayerDelta
{
    private readonly float[] down, up;
    private readonly int[] downShape, upShape;

    /// <summary>Checks that the factors fit together (down [r, in…], up [out, r, 1…]); throws <see cref="ArgumentException"/> naming the module.</summary>
    public LoraLayerDelta(LoraComponent component, string moduleName, float[] down, IReadOnlyList<int> downShape, float[] up,
        IReadOnlyList<int> upShape, float? alpha = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(moduleName);
        ArgumentNullException.ThrowIfNull(down);
        ArgumentNullException.ThrowIfNull(up);
        string where = $"LoRA layer '{moduleName}'";
        if (downShape.Count < 2 || downShape.Any(d => d <= 0))
            throw new ArgumentException($"{where}: down has shape {Text(downShape)}; expected [rank, in] or [rank, Cin, kh, kw] with positive sizes.", nameof(downShape));
        if (upShape.Count < 2 || upShape[0] <= 0 || upShape[1] != downShape[0] || upShape.Skip(2).Any(d => d != 1))
            throw new ArgumentException($"{where}: up has shape {Text(upShape)}; expected [out, {downShape[0]}] or [out, {downShape[0]}, 1, 1] to match down {Text(downShape)}.", nameof(upShape));
        if (down.Length != Product(downShape)) throw new ArgumentException($"{where}: {down.Length} down values do not fill {Text(downShape)}.", nameof(down));
        if (up.Length != Product(upShape)) throw new ArgumentException($"{where}: {up.Length} up values do not fill {Text(upShape)}.", nameof(up));
        if (alpha is { } a && !float.IsFinite(a)) throw new ArgumentException($"{where}: alpha is {a}; expected a finite number.", nameof(alpha));
        Component = component;
        ModuleName = moduleName;
        this.down = down;
        this.up = up;
        this.downShape = [.. downShape];
        this.upShape = [.. upShape];
        Alpha = alpha;
    }

    public LoraComponent Component { get; }

    /// <summary>The diffusers name of the adapted module, e.g. <c>down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k</c>.</summary>
    public string ModuleName { get; }

    /// <summary>The down (input-side) factor, <see cref="DownShape"/> [r, in…].</summary>
    public ReadOnlyMemory<float> Down => down;

    public IReadOnlyList<int> DownShape => downShape;

    /// <summary>The up (output-side) factor, <see cref="UpShape"/> [out, r] or [out, r, 1, 1].</summary>
    public ReadOnlyMemory<float> Up => up;

    public IReadOnlyList<int> UpShape => upShape;

    /// <summary>kohya's alpha, or null when the file has none (then the scale is 1).</summary>
    public float? Alpha { get; }

    public int Rank => downShape[0];

    /// <summary>alpha / rank, or 1 without alpha.</summary>
    public double Scale => Alpha is { } alpha ? (double)alpha / Rank : 1.0;

    /// <summary>The output features (Cout).</summary>
    public int OutFeatures => upShape[0];

    /// <summary>The input features, flattened for a convolution (Cin · kh · kw).</summary>
    public int InFeatures => down.Length / Rank;

    /// <summary>The shape of ΔW: [out, in] for a linear layer, [Cout, Cin, kh, kw] for a convolution.</summary>
    public IReadOnlyList<int> DeltaShape => [OutFeatures, .. downShape[1..]];

    /// <summary>
    /// The dense ΔW = <paramref name="weight"/> · scale · up · down in <see cref="DeltaShape"/>, row-major,
    /// accumulated in float64 on the host and rounded once to F32.
    /// </summary>
    public float[] ComputeDelta(double weight = 1.0)
    {
        int rank = Rank, inFeatures = InFeatures;
        double factor = weight * Scale;
        var delta = new float[OutFeatures * inFeatures];
        var row = new double[inFeatures];
        for (int o = 0; o < OutFeatures; o++)
        {
            Array.Clear(row);
            for (int r = 0; r < rank; r++)
            {
                double u = up[o * rank + r];
                var downRow = down.AsSpan(r * inFeatures, inFeatures);
                for (int i = 0; i < inFeatures; i++) row[i] += u * downRow[i];
            }
            for (int i = 0; i < inFeatures; i++) delta[o * inFeatures + i] = (float)(factor * row[i]);
        }
        return delta;
    }

    /// <summary>
    /// One layer whose ΔW is the sum of the parts' ΔW (C-LoRA's Σ_t up_t · down_t): down = vstack(down_t),
    /// up = hstack(scale_t · up_t), rank = Σ r_t and alpha = rank (scale 1). The parts must adapt the same module with the
    /// same shapes.
    /// </summary>
    public static LoraLayerDelta Concatenate(IReadOnlyList<LoraLayerDelta> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0) throw new ArgumentException("no LoRA layers to concatenate.", nameof(parts));
        var first = parts[0];
        foreach (var part in parts.Skip(1))
            if (part.Component != first.Component || part.ModuleName != first.ModuleName || part.OutFeatures != first.OutFeatures
                || !part.downShape.AsSpan(1).SequenceEqual(first.downShape.AsSpan(1)) || part.upShape.Length != first.upShape.Length)
                throw new ArgumentException($"cannot concatenate LoRA layer {part.Component} '{part.ModuleName}' (down {Text(part.downShape)}, " +
                                            $"up {Text(part.upShape)}) with {first.Component} '{first.ModuleName}' (down {Text(first.downShape)}, " +
                                            $"up {Text(first.upShape)}): expected the same module and shapes.", nameof(parts));
        int rank = parts.Sum(p => p.Rank), outFeatures = first.OutFeatures;
        var up = new float[outFeatures * rank];
        int column = 0;
        foreach (var part in parts)
        {
            var scaled = part.ScaledUp();
            for (int o = 0; o < outFeatures; o++)
                scaled.AsSpan(o * part.Rank, part.Rank).CopyTo(up.AsSpan(o * rank + column));
            column += part.Rank;
        }
        int[] upShape = [outFeatures, rank, .. first.upShape[2..]];
        return new LoraLayerDelta(first.Component, first.ModuleName, [.. parts.SelectMany(p => p.down)], [rank, .. first.downShape[1..]],
            up, upShape, rank);
    }

    /// <summary>up · scale, so that ΔW = ScaledUp · down: the factor a dialect without alpha stores.</summary>
    internal float[] ScaledUp()
    {
        double scale = Scale;
        return scale == 1.0 ? up : [.. up.Select(u => (float)(scale * u))];
    }

    public override string ToString() => $"{Component} {ModuleName}: rank {Rank}, ΔW {Text(DeltaShape)}, scale {Scale}";

    private static long Product(IReadOnlyList<int> shape) => shape.Aggregate(1L, (p, d) => p * d);

    private static string Text(IReadOnlyList<int> shape) => $"[{string.Join(", ", shape)}]";
}
