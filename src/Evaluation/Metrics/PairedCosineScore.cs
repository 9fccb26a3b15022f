namespace IlgpuDiffusion.Evaluation.Metrics;

/// <summary>
/// CLIP-T: the mean over images of cos(imageᵢ, textᵢ), each generated image against the embedding of its own prompt
/// (with the concept token replaced by the class word). One set of pairs: resampling draws pairs.
/// </summary>
public sealed class PairedCosineScore : IResamplableScore
{
    private readonly double[] cosines;

    public PairedCosineScore(IReadOnlyList<float[]> images, IReadOnlyList<float[]> texts)
    {
        int d = EmbeddingSet.Check(images, "image embeddings");
        EmbeddingSet.Check(texts, "text embeddings", dimension: d);
        if (texts.Count != images.Count)
            throw new ArgumentException($"CLIP-T pairs each image with its prompt: {images.Count} images but {texts.Count} prompts.");
        cosines = [.. images.Select((image, i) => EmbeddingSet.Cosine(image, texts[i]))];
        SetSizes = [images.Count];
        Value = cosines.Average();
    }

    public IReadOnlyList<int> SetSizes { get; }

    public double Value { get; }

    public double Evaluate(IReadOnlyList<int[]> samples)
    {
        double sum = 0;
        foreach (int i in samples[0]) sum += cosines[i];
        return sum / samples[0].Length;
    }
}
