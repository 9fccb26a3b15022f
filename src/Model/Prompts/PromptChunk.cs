namespace IlgpuDiffusion.Model.Prompts;

/// <summary>
/// One 77-token window of a prompt for the text encoder: bos, up to 75 prompt tokens, eos padding, eos, and the
/// attention weight of each position (1.0 at bos, eos and padding).
/// </summary>
public sealed class PromptChunk(int[] ids, float[] weights, int tokenCount)
{
    /// <summary>The 77 token ids.</summary>
    public int[] Ids { get; } = ids;

    /// <summary>The 77 weights, float32 as A1111's <c>torch.asarray(multipliers)</c>.</summary>
    public float[] Weights { get; } = weights;

    /// <summary>How many ids after bos are prompt tokens rather than padding.</summary>
    public int TokenCount { get; } = tokenCount;
}
