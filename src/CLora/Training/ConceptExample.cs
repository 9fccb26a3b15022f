namespace IlgpuDiffusion.CLora.Training;

/// <summary>
/// One training image, prepared: its cached latents (channels-last [h, w, 4], × the VAE scaling factor), the first
/// of the image and, when flipping is on, the second of its mirror image; and its prompts as CLIP input ids.
/// </summary>
public sealed record ConceptExample(string Path, IReadOnlyList<float[]> Latents, IReadOnlyList<int[]> Prompts);
