using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Model.Loading;

/// <summary>
/// What to load: <see cref="ModelPath"/> is a diffusers folder or a single-file LDM <c>.safetensors</c> checkpoint;
/// <see cref="ConfigFolder"/> (<c>--config DIR</c>) is a diffusers-style folder whose <c>unet/</c>, <c>vae/</c>,
/// <c>text_encoder/config.json</c>, <c>tokenizer/</c> and <c>scheduler/</c> take precedence over the model's own
/// (a single file has none, so without it the architecture is inferred from the tensor names and shapes);
/// <see cref="TokenizerFolder"/> (<c>--tokenizer DIR</c>) holds <c>vocab.json</c> and <c>merges.txt</c>;
/// <see cref="Weights"/> (<c>--weights f32|f16</c>) is the device dtype of the weights (see <see cref="WeightSet"/>).
/// </summary>
public sealed record ModelSource(string ModelPath)
{
    public string? ConfigFolder { get; init; }

    public string? TokenizerFolder { get; init; }

    /// <summary><see cref="DType.F32"/> (default) or <see cref="DType.F16"/>.</summary>
    public DType Weights { get; init; } = DType.F32;

    /// <summary>Parses a <c>--weights</c> value: "f32" or "f16" (any casing).</summary>
    public static DType ParseWeights(string text) => text.ToLowerInvariant() switch
    {
        "f32" => DType.F32,
        "f16" => DType.F16,
        _ => throw new ArgumentException($"--weights '{text}': expected f32 or f16.", nameof(text)),
    };
}
