namespace IlgpuDiffusion.CLora.Library;

/// <summary>A training checkpoint of a concept in the library's <c>checkpoints/</c> folder, and the step it was saved at.</summary>
public sealed record CheckpointFile(int Step, string Path);
