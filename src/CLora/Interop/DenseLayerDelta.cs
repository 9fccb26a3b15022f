namespace IlgpuDiffusion.CLora.Interop;

/// <summary>
/// A full-rank weight delta of one module (what K/V fine-tuning learns), to be exported as LoRA with
/// <see cref="LowRankExport"/>: ΔW in <see cref="Shape"/> ([out, in], or [Cout, Cin, kh, kw]), row-major F32.
/// </summary>
public sealed record DenseLayerDelta(LoraComponent Component, string ModuleName, ReadOnlyMemory<float> Delta, IReadOnlyList<int> Shape);
