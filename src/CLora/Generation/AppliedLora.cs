using IlgpuDiffusion.CLora.Interop;

namespace IlgpuDiffusion.CLora.Generation;

/// <summary>
/// What <see cref="PipelineCustomization.AddLora(LoraFile, double)"/> did: the file, its weight, the layers folded into
/// the pipeline (each as W += weight · alpha / rank · up · down) and the tensors that matched nothing, with why.
/// </summary>
public sealed record AppliedLora(string Path, double Weight, IReadOnlyList<LoraLayerDelta> Layers, IReadOnlyList<LoraUnmatchedKey> Unmatched);
