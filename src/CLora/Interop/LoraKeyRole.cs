namespace IlgpuDiffusion.CLora.Interop;

/// <summary>What a LoRA tensor is to its layer.</summary>
internal enum LoraKeyRole
{
    Down,
    Up,
    Alpha,

    /// <summary>A tensor of an extension this engine does not apply (LyCORIS LoHa/LoKr/Tucker, DoRA…): its whole layer is skipped.</summary>
    Unsupported,
}
