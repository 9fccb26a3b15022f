namespace IlgpuDiffusion.CLora.Interop;

/// <summary>The naming conventions of LoRA files this engine reads.</summary>
public enum LoraDialect
{
    /// <summary>
    /// kohya sd-scripts (also A1111, ComfyUI, LyCORIS LoCon): <c>lora_unet_&lt;module with _&gt;.lora_down.weight</c>,
    /// <c>.lora_up.weight</c>, <c>.alpha</c>; <c>lora_te_…</c> for the text encoder; diffusers or LDM module names.
    /// </summary>
    Kohya,

    /// <summary>
    /// diffusers: <c>unet.&lt;module&gt;.lora.down.weight</c>, <c>….lora_linear_layer.down.weight</c> and the
    /// attention-processor form <c>unet.….attn2.processor.to_k_lora.down.weight</c>; <c>text_encoder.…</c>.
    /// </summary>
    Diffusers,

    /// <summary>PEFT: <c>base_model.model.&lt;module&gt;.lora_A.weight</c> / <c>lora_B.weight</c>, also under <c>unet.</c> or <c>text_encoder.</c>.</summary>
    Peft,
}
