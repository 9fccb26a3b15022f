namespace IlgpuDiffusion.CLora.Interop;

/// <summary>The LoRA naming a concept library is exported in (<see cref="LibraryExport"/>).</summary>
public enum LibraryExportFormat
{
    /// <summary>kohya: <c>lora_unet_….lora_down.weight</c>, <c>.lora_up.weight</c>, <c>.alpha</c> and <c>ss_*</c> metadata (A1111, ComfyUI).</summary>
    Kohya,

    /// <summary>diffusers: <c>unet.….lora.down.weight</c> and <c>.lora.up.weight</c> (<c>load_lora_weights</c>).</summary>
    Diffusers,
}
