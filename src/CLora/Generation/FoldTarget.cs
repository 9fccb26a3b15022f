using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.CLora.Generation;

/// <summary>
/// A weight a generation-time change is folded into: a <see cref="LinearLayer"/>'s [out, in] (also a 1×1 conv's) or a
/// <see cref="Conv2dLayer"/>'s, which the engine stores repacked as [Cout, kh, kw, Cin]. Deltas come in PyTorch's
/// layout ([out, in] or [Cout, Cin, kh, kw]) and are added on the host: the weight is read (F32, or F16 widened), the
/// delta added in F32, and the sum written back in the weight's own dtype.
/// </summary>
internal sealed class FoldTarget
{
    private readonly Func<Tensor> weight;
    private readonly bool repacked;

    private FoldTarget(string name, Func<Tensor> weight, bool repacked)
    {
        Name = name;
        this.weight = weight;
        this.repacked = repacked;
    }

    /// <summary>The module's diffusers name.</summary>
    public string Name { get; }

    /// <summary>The weight's shape in PyTorch's layout: [out, in] or [Cout, Cin, kh, kw].</summary>
    public IReadOnlyList<int> TorchShape
    {
        get
        {
            var shape = weight().Shape;
            return repacked ? [shape[0], shape[3], shape[1], shape[2]] : shape.ToArray();
        }
    }

    public static FoldTarget Of(LinearLayer layer) => new(layer.Name, () => layer.Weight.Value, repacked: false);

    public static FoldTarget Of(Conv2dLayer layer) => new(layer.Name, () => layer.Weight.Value, repacked: true);

    /// <summary>W += <paramref name="delta"/> (PyTorch layout, as many values as W), in place.</summary>
    /// <exception cref="ArgumentException">The delta's size differs from the weight's.</exception>
    /// <exception cref="InvalidOperationException">The weight is neither F32 nor F16.</exception>
    public void Add(ReadOnlySpan<float> delta)
    {
        var w = weight();
        if (delta.Length != w.Count)
            throw new ArgumentException($"{Name}.weight: a delta of {delta.Length} values does not fit the weight {w.Shape} ({w.Count} values).", nameof(delta));
        var values = w.DType switch
        {
            DType.F32 => w.ToFloatArray(),
            DType.F16 => [.. w.ToHalfArray().Select(h => (float)h)],
            _ => throw new InvalidOperationException($"{Name}.weight is {w.DType}; only F32 and F16 weights can take a delta."),
        };
        if (repacked) AddRepacked(values, delta, w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]);
        else
            for (int i = 0; i < values.Length; i++) values[i] += delta[i];
        if (w.DType == DType.F32) w.CopyFromHost(values);
        else w.CopyFromHost([.. values.Select(v => (Half)v)]);
    }

    /// <summary>values [Cout, kh, kw, Cin] += delta [Cout, Cin, kh, kw].</summary>
    private static void AddRepacked(float[] values, ReadOnlySpan<float> delta, int outChannels, int kh, int kw, int inChannels)
    {
        for (int o = 0; o < outChannels; o++)
            for (int c = 0; c < inChannels; c++)
                for (int y = 0; y < kh; y++)
                    for (int x = 0; x < kw; x++)
                        values[((o * kh + y) * kw + x) * inChannels + c] += delta[((o * inChannels + c) * kh + y) * kw + x];
    }
}
