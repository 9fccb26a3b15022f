namespace IlgpuDiffusion.CLora.Training;

/// <summary>
/// What <see cref="ConceptTeacher.Learn"/> learns: the concept's <see cref="Name"/> (its token is <c>&lt;name&gt;</c>),
/// its <see cref="Images"/> folder, an optional <see cref="ClassWord"/> kept in the library, and optionally prior
/// preservation: a folder of generic <see cref="ClassImages"/> (not past concepts' data, so training stays
/// replay-free) trained with <see cref="ClassPrompt"/>.
/// </summary>
public sealed record ConceptLesson
{
    public required string Name { get; init; }

    public required string Images { get; init; }

    public string? ClassWord { get; init; }

    /// <summary>A folder of class images for prior preservation, or null for none.</summary>
    public string? ClassImages { get; init; }

    /// <summary>The prompt of every class image (required with <see cref="ClassImages"/>), e.g. "a photo of a dog".</summary>
    public string? ClassPrompt { get; init; }
}
