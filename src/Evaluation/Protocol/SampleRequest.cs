namespace IlgpuDiffusion.Evaluation.Protocol;

/// <summary>
/// One image the protocol generates: the prompt naming the concept token, the prompt CLIP-T scores against (token
/// replaced by the class word), its seed, and whether it is a fidelity or a context image.
/// </summary>
public sealed record SampleRequest(string Concept, SampleKind Kind, int Index, string Prompt, string ScoringPrompt, long Seed)
{
    /// <summary>The file name inside the concept's folder, e.g. <c>fidelity-00.png</c>.</summary>
    public string FileName => $"{(Kind == SampleKind.Fidelity ? "fidelity" : "context")}-{Index:D2}.png";
}

/// <summary>Fidelity images ("a photo of &lt;concept&gt;") feed CLIP-I, DINO-I and KID; context images feed CLIP-T.</summary>
public enum SampleKind
{
    Fidelity,
    Context,
}
