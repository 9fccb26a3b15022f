using System.Text.Json;

namespace IlgpuDiffusion.Evaluation.Protocol;

/// <summary>
/// What one method's run of the protocol does: the <see cref="Concepts"/> in learning order, the <see cref="Method"/>
/// name, the model's identity for the manifest, N = <see cref="ImagesPerConcept"/> (N fidelity images and N context
/// images spread over the context prompts, per concept and task), sampling, and the context prompts (null: the built-in
/// list for each concept's class word). <see cref="Trainer"/> describes the trainer's settings for the manifest.
/// </summary>
public sealed record SequenceSettings
{
    public required IReadOnlyList<ConceptSpec> Concepts { get; init; }

    public required string Method { get; init; }

    public required string Model { get; init; }

    public int ImagesPerConcept { get; init; } = 4;

    public SamplingSettings Sampling { get; init; } = new();

    public IReadOnlyList<string>? ContextPrompts { get; init; }

    /// <summary>The trainer's settings, as recorded in the manifest (any JSON-serialisable object).</summary>
    public object? Trainer { get; init; }

    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        if (Concepts.Count == 0) throw new ArgumentException("the sequence has no concept.", nameof(Concepts));
        if (ImagesPerConcept < 2)
            throw new ArgumentException($"images per concept must be at least 2 (KID needs 2 per set), got {ImagesPerConcept}.", nameof(ImagesPerConcept));
        if (!Protocol.MethodNames.IsValid(Method)) throw new ArgumentException($"method name '{Method}' is not a valid folder name.", nameof(Method));
        Sampling.Validate();
    }

    /// <summary>The prompts with a <c>{}</c> slot for <paramref name="concept"/>.</summary>
    public IReadOnlyList<string> ContextPromptsFor(ConceptSpec concept) => ContextPrompts ?? Protocol.ContextPrompts.For(concept.ClassWord);

    /// <summary>
    /// The images concept <paramref name="conceptIndex"/> gets after every task: N from "a photo of &lt;name&gt;" and N
    /// spread over the context prompts, with seeds that depend only on the concept and the image (paired across tasks).
    /// </summary>
    public IReadOnlyList<SampleRequest> RequestsFor(int conceptIndex)
    {
        var concept = Concepts[conceptIndex];
        string token = $"<{concept.Name}>";
        long seed = Sampling.Seed + 1000L * conceptIndex;
        var prompts = ContextPromptsFor(concept);
        return
        [
            .. Enumerable.Range(0, ImagesPerConcept).Select(k =>
                new SampleRequest(concept.Name, SampleKind.Fidelity, k, $"a photo of {token}", $"a photo of {concept.ClassWord}", seed + k)),
            .. Enumerable.Range(0, ImagesPerConcept).Select(k =>
            {
                string template = prompts[k % prompts.Count];
                return new SampleRequest(concept.Name, SampleKind.Context, k, Protocol.ContextPrompts.Fill(template, token),
                    Protocol.ContextPrompts.Fill(template, concept.ClassWord), seed + 500 + k);
            }),
        ];
    }

    /// <summary>A JSON fingerprint of everything that shapes the results, to refuse resuming into a folder made with other settings.</summary>
    public string Fingerprint() => JsonSerializer.Serialize(new
    {
        concepts = Concepts.Select(c => new { c.Name, c.Images, c.ClassWord }),
        Method,
        Model,
        ImagesPerConcept,
        Sampling,
        prompts = Concepts.Select(ContextPromptsFor),
        Trainer,
    });
}
