namespace IlgpuDiffusion.CLora.Interop;

/// <summary>The network a LoRA layer adapts: the UNet (<c>unet</c>) or the CLIP text encoder (<c>text_encoder</c>).</summary>
public enum LoraComponent
{
    UNet,
    TextEncoder,
}
