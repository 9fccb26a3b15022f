using IlgpuDiffusion.CLora.Library;

namespace IlgpuDiffusion.CLora.Training;

/// <summary>
/// What <see cref="ConceptTeacher.Learn"/> added to the library: the <see cref="Concept"/> as stored (token, token id,
/// 0-based task index, stored parameter count, record), the method and λ the library trains with, the step the run
/// resumed from (null when it started fresh), the parameters the optimizer updated and the library stores for it, the
/// wall time of the call and the peak device memory the allocator reserved during it.
/// </summary>
public sealed record LearnedConcept(
    LibraryConcept Concept, TrainingMethod Method, float Lambda, int? ResumedFromStep, long TrainedParameters, TimeSpan WallTime, long PeakDeviceBytes)
{
    /// <summary>The parameters the library stores for the concept (its factors or dense delta, plus its token row).</summary>
    public long StoredParameters => Concept.StoredParameters;
}
