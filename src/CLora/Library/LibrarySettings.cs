namespace IlgpuDiffusion.CLora.Library;

/// <summary>
/// The settings a whole continual-customization run shares, fixed when the library is created: the
/// <see cref="Method"/>, the regulariser weight <see cref="Lambda"/> (C-LoRA's λ; 0 for the other methods), the
/// default LoRA <see cref="Rank"/> (0 for methods without factors) and the <see cref="TargetPattern"/> that chose the
/// adapted layers (as the trainer wrote it, for instance <c>attn2.to_k|attn2.to_v</c>).
/// </summary>
public sealed record LibrarySettings
{
    public required LibraryMethod Method { get; init; }

    public required double Lambda { get; init; }

    public required int Rank { get; init; }

    public required string TargetPattern { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is out of range for the method.</summary>
    internal void Validate()
    {
        if (!Enum.IsDefined(Method)) throw new ArgumentException($"settings: unknown method {(int)Method}.");
        if (!double.IsFinite(Lambda) || Lambda < 0) throw new ArgumentException($"settings: lambda {Lambda} must be finite and ≥ 0.");
        if (Method.StoresFactors() ? Rank < 1 : Rank != 0)
            throw new ArgumentException($"settings: rank {Rank} for method {Method.Name()}: expected {(Method.StoresFactors() ? "≥ 1" : "0 (it has no factors)")}.");
        if (Method.StoresDeltas() && string.IsNullOrWhiteSpace(TargetPattern))
            throw new ArgumentException($"settings: method {Method.Name()} adapts layers, so the target pattern must not be empty.");
    }
}
