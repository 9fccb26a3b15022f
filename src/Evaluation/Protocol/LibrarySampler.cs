using IlgpuDiffusion.CLora.Generation;
using IlgpuDiffusion.CLora.Library;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Images;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Pipelines;

namespace IlgpuDiffusion.Evaluation.Protocol;

/// <summary>
/// The real sampler: loads the pipeline afresh (a library's deltas are folded into the weights for good), applies the
/// library with <see cref="PipelineCustomization"/> and generates each request with its own seed.
/// </summary>
public sealed class LibrarySampler(ModelSource model, Device device) : IConceptSampler
{
    private readonly Lazy<ModelIdentity> identity = new(() => ModelIdentity.Compute(model.ModelPath));

    public IReadOnlyList<(RgbImage Image, string Sampler)> Generate(string libraryFolder, IReadOnlyList<SampleRequest> requests, SamplingSettings settings)
    {
        using var pipeline = StableDiffusionPipeline.Load(model, device);
        using var customization = new PipelineCustomization(pipeline);
        customization.AddLibrary(ConceptLibrary.Open(libraryFolder), identity.Value);
        return [.. requests.Select(request =>
        {
            var image = pipeline.Generate(new TextToImageRequest
            {
                Prompt = request.Prompt,
                Seed = request.Seed,
                Steps = settings.Steps,
                Guidance = settings.Guidance,
                Scheduler = settings.Scheduler,
                Width = settings.Resolution,
                Height = settings.Resolution,
            }).Images[0];
            return (image.Image, image.Parameters.Sampler);
        })];
    }
}
