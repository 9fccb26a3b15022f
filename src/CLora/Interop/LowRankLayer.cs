namespace IlgpuDiffusion.CLora.Interop;

/// <summary>One exported layer: the LoRA factors to write, and the approximation they came from (its error and spectrum).</summary>
public sealed record LowRankLayer(LoraLayerDelta Layer, LowRankApproximation Approximation);
