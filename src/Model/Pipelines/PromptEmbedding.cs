namespace IlgpuDiffusion.Model.Pipelines;

/// <summary>
/// A prompt's text-encoder output as the UNet's cross-attention context: <see cref="Tokens"/> × <see cref="Width"/>
/// floats, row-major (<c>[1, 77·chunks, C]</c> in diffusers' terms), on the host.
/// </summary>
public sealed record PromptEmbedding(float[] Values, int Tokens, int Width)
{
    /// <summary>The number of 77-token chunks.</summary>
    public int Chunks => Tokens / Text.ClipTokenizer.MaxLength;
}
