using IlgpuDiffusion.CLora.Library;

namespace IlgpuDiffusion.CLora.Generation;

/// <summary>
/// What <see cref="PipelineCustomization.AddLibrary"/> did: the concepts whose tokens prompts may now name, and the UNet
/// layers the library's accumulated deltas were folded into (none for a token-only library).
/// </summary>
public sealed record AppliedLibrary(string Folder, IReadOnlyList<LibraryConcept> Concepts, IReadOnlyList<string> FoldedLayers);
