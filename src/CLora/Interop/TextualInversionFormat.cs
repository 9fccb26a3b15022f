namespace IlgpuDiffusion.CLora.Interop;

/// <summary>The layouts of textual-inversion embedding files this engine reads.</summary>
public enum TextualInversionFormat
{
    /// <summary>A1111/kohya safetensors: <c>emb_params</c> [n, C] (what <see cref="TextualInversionEmbedding.Save"/> writes).</summary>
    EmbParams,

    /// <summary>A1111's <c>.pt</c> layout saved as safetensors: one <c>string_to_param.*</c> tensor [n, C].</summary>
    StringToParam,

    /// <summary>An SDXL embedding (<c>clip_l</c> and <c>clip_g</c>), of which SD 1.x uses <c>clip_l</c> [n, 768].</summary>
    ClipL,

    /// <summary>diffusers' <c>save_textual_inversion</c>: one tensor named by the placeholder token, [C] or [n, C].</summary>
    Diffusers,
}
