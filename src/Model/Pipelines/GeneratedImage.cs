using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Model.Pipelines;

/// <summary>One generated image, the seed of its noise, and the A1111 parameters to store with it (<see cref="PngWriter"/>).</summary>
public sealed record GeneratedImage(RgbImage Image, long Seed, GenerationParameters Parameters);
