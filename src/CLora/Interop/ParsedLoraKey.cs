namespace IlgpuDiffusion.CLora.Interop;

/// <summary>A LoRA file's tensor name, understood: its dialect, its role, and the component and diffusers name of the module it adapts.</summary>
internal sealed record ParsedLoraKey(string Key, LoraDialect Dialect, LoraKeyRole Role, string Suffix, LoraComponent Component, string Module);
