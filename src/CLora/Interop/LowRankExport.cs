namespace IlgpuDiffusion.CLora.Interop;

/// <summary>
/// Exports full-rank deltas as LoRA at a fixed rank by truncated SVD (<see cref="TruncatedSvd"/>), one layer per
/// thread-pool work item. Write the layers with <see cref="LoraFileWriter"/>; report each
/// <see cref="LowRankApproximation.RelativeError"/>.
/// </summary>
public static class LowRankExport
{
    /// <summary>Factors every delta at <paramref name="rank"/> (lowered to min(out, in) where that is smaller), in input order.</summary>
    public static IReadOnlyList<LowRankLayer> Factorize(IReadOnlyList<DenseLayerDelta> deltas, int rank)
    {
        ArgumentNullException.ThrowIfNull(deltas);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rank);
        foreach (var delta in deltas)
            if (delta.Shape.Count < 2 || delta.Shape.Any(d => d <= 0) || delta.Delta.Length != delta.Shape.Aggregate(1L, (p, d) => p * d))
                throw new ArgumentException($"{delta.Component} '{delta.ModuleName}': {delta.Delta.Length} values do not fill ΔW " +
                                            $"[{string.Join(", ", delta.Shape)}] (expected [out, in] or [Cout, Cin, kh, kw]).", nameof(deltas));
        var layers = new LowRankLayer[deltas.Count];
        Parallel.For(0, deltas.Count, i =>
        {
            var delta = deltas[i];
            int rows = delta.Shape[0], cols = delta.Delta.Length / rows;
            var wide = new double[delta.Delta.Length];
            var source = delta.Delta.Span;
            for (int j = 0; j < wide.Length; j++) wide[j] = source[j];
            var approximation = TruncatedSvd.Decompose(wide, rows, cols, rank);
            layers[i] = new LowRankLayer(approximation.ToLayer(delta.Component, delta.ModuleName, delta.Shape), approximation);
        });
        return layers;
    }
}
