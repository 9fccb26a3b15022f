namespace IlgpuDiffusion.CLora.Interop;

/// <summary>
/// A truncated SVD of ΔW [<see cref="Rows"/>, <see cref="Cols"/>] as LoRA factors (<see cref="TruncatedSvd"/>):
/// ΔW ≈ up · down with up = U_r √Σ_r [rows, r] and down = √Σ_r V_rᵀ [r, cols], in float64.
/// </summary>
public sealed class LowRankApproximation
{
    private readonly double[] up, down, singularValues;

    internal LowRankApproximation(int rows, int cols, double[] up, double[] down, double[] singularValues, double relativeError)
    {
        Rows = rows;
        Cols = cols;
        this.up = up;
        this.down = down;
        this.singularValues = singularValues;
        RelativeError = relativeError;
    }

    public int Rows { get; }

    public int Cols { get; }

    public int Rank => down.Length / Cols;

    /// <summary>[rows, rank], row-major.</summary>
    public ReadOnlyMemory<double> Up => up;

    /// <summary>[rank, cols], row-major.</summary>
    public ReadOnlyMemory<double> Down => down;

    /// <summary>
    /// All min(rows, cols) singular values of ΔW, largest first. They come from the Gram matrix, so those far below
    /// the largest are accurate only to about 1e-8 of it.
    /// </summary>
    public IReadOnlyList<double> SingularValues => singularValues;

    /// <summary>‖ΔW − up · down‖_F / ‖ΔW‖_F, measured on the float64 factors.</summary>
    public double RelativeError { get; }

    /// <summary>
    /// The factors as a LoRA layer (F32, alpha = rank so the scale is 1). <paramref name="deltaShape"/> is ΔW's shape
    /// when it is not [rows, cols]: a convolution [Cout, Cin, kh, kw] gives down [r, Cin, kh, kw] and up [Cout, r, 1, 1].
    /// </summary>
    public LoraLayerDelta ToLayer(LoraComponent component, string moduleName, IReadOnlyList<int>? deltaShape = null)
    {
        IReadOnlyList<int> shape = deltaShape ?? [Rows, Cols];
        if (shape.Count < 2 || shape[0] != Rows || shape.Skip(1).Aggregate(1L, (p, d) => p * d) != Cols)
            throw new ArgumentException($"'{moduleName}': ΔW shape [{string.Join(", ", shape)}] does not match the factored [{Rows}, {Cols}].", nameof(deltaShape));
        int[] upShape = shape.Count == 2 ? [Rows, Rank] : [Rows, Rank, .. Enumerable.Repeat(1, shape.Count - 2)];
        return new LoraLayerDelta(component, moduleName, [.. down.Select(v => (float)v)], [Rank, .. shape.Skip(1)],
            [.. up.Select(v => (float)v)], upShape, Rank);
    }
}
