namespace IlgpuDiffusion.Evaluation.Extractors;

/// <summary>A text feature extractor (CLIP text tower): one embedding per prompt, on the host, not normalised.</summary>
public interface ITextEmbedder
{
    /// <summary>The length of each embedding.</summary>
    int Dimension { get; }

    /// <summary>One embedding of length <see cref="Dimension"/> per prompt, in order.</summary>
    float[][] EmbedTexts(IReadOnlyList<string> prompts);
}
