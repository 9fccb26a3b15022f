using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Evaluation.Protocol;

/// <summary>Generates images with a concept library applied, so prompts can name its concepts' tokens.</summary>
public interface IConceptSampler
{
    /// <summary>One image per request, in order, from the library in <paramref name="libraryFolder"/> as it is now.</summary>
    IReadOnlyList<(RgbImage Image, string Sampler)> Generate(string libraryFolder, IReadOnlyList<SampleRequest> requests, SamplingSettings settings);
}
