namespace IlgpuDiffusion.CLora.Interop;

/// <summary>One concept's textual-inversion file: the token it is loaded as (its file name) and the path.</summary>
public sealed record ExportedEmbedding(string Token, string Path);
