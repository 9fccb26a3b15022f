using IlgpuDiffusion.CLora.Generation;
using IlgpuDiffusion.CLora.Library;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Images;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Pipelines;

namespace IlgpuDiffusion.Evaluation.Protocol;

/// <summary>
/// The real sampler: loads the pipeline afresh (a library's deltas are folded into the weights for good), applies the
/// library with <see cref="PipelineCustomization"/> and generates each request with its own seed (runs of one prompt
/// with consecutive seeds in one batch).
/// </summary>
public sealed class LibrarySampler(ModelSource model, Device device) : IConceptSampler
{
    private readonly Lazy<ModelIdentity> identity = new(() => ModelIdentity.Compute(model.ModelPath));

    public IReadOnlyList<(RgbImage Image, string Sampler)> Generate(string libraryFolder, IReadOnlyList<SampleRequest> requests, SamplingSettings settings)
    {
        using var pipeline = StableDiffusionPipeline.Load(model, device);
        using var customization = new PipelineCustomization(pipeline);
        customization.AddLibrary(ConceptLibrary.Open(libraryFolder), identity.Value);
        var images = new List<(RgbImage, string)>(requests.Count);
        foreach (var run in ConsecutiveSeeds(requests))
        {
            var result = pipeline.Generate(new TextToImageRequest
            {
                Prompt = run[0].Prompt,
                Seed = run[0].Seed,
                BatchSize = run.Count,
                Steps = settings.Steps,
                Guidance = settings.Guidance,
                Scheduler = settings.Scheduler,
                Width = settings.Resolution,
                Height = settings.Resolution,
            });
            images.AddRange(result.Images.Select(image => (image.Image, image.Parameters.Sampler)));
        }
        return images;
    }

    /// <summary>
    /// The requests cut into runs of one prompt with consecutive seeds, in order: one batched pipeline call draws a run,
    /// since image i of a batch uses seed + i (at most <see cref="MaxBatch"/> per call).
    /// </summary>
    internal static IEnumerable<IReadOnlyList<SampleRequest>> ConsecutiveSeeds(IReadOnlyList<SampleRequest> requests)
    {
        var run = new List<SampleRequest>();
        foreach (var request in requests)
        {
            if (run.Count > 0 && (run.Count == MaxBatch || request.Prompt != run[0].Prompt || request.Seed != run[^1].Seed + 1))
            {
                yield return run;
                run = [];
            }
            run.Add(request);
        }
        if (run.Count > 0) yield return run;
    }

    /// <summary>The most images one pipeline call draws.</summary>
    internal const int MaxBatch = 4;
}
