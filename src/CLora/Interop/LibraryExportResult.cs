namespace IlgpuDiffusion.CLora.Interop;

/// <summary>
/// What <see cref="LibraryExport.Export"/> wrote: the LoRA file (null for a token-only library, which has no weight
/// deltas), its layers, one textual-inversion file per concept, and, when the deltas were factored by truncated SVD,
/// the overall relative Frobenius error √(Σ_ℓ ‖ΔW_ℓ − up_ℓ·down_ℓ‖²) / √(Σ_ℓ ‖ΔW_ℓ‖²) (null when the export is exact).
/// </summary>
public sealed record LibraryExportResult(
    string? LoraPath, IReadOnlyList<ExportedLoraLayer> Layers, double? RelativeError, IReadOnlyList<ExportedEmbedding> Embeddings);
