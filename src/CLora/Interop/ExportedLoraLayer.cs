namespace IlgpuDiffusion.CLora.Interop;

/// <summary>One layer of an exported LoRA: its UNet module, its rank, and its SVD error ‖ΔW − up·down‖_F / ‖ΔW‖_F (null when exact).</summary>
public sealed record ExportedLoraLayer(string ModuleName, int Rank, double? RelativeError);
