using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Prompts;
using IlgpuDiffusion.Model.Text;
using IlgpuDiffusion.Model.TextEncoder;

namespace IlgpuDiffusion.Model.Pipelines;

/// <summary>
/// Turns prompts into the UNet's conditioning as AUTOMATIC1111 does: the prompt is parsed for attention syntax and cut
/// into 75-token chunks (<see cref="PromptChunker"/>); every chunk is framed to 77 ids and encoded (all chunks in one
/// text-encoder call); each token's hidden state is multiplied by its weight and the chunk rescaled so its mean is the
/// unweighted mean (A1111's "Original" emphasis, <c>z · (original_mean / new_mean)</c>); the chunks are concatenated
/// along the token axis. A chunk whose weights are all 1 is left as encoded, so a plain prompt of at most 75 tokens
/// gives exactly diffusers' embedding.
/// </summary>
public sealed class PromptEncoder
{
    private readonly ClipTextEncoder encoder;
    private readonly PromptChunker chunker;
    private readonly ClipTokenizer tokenizer;
    private readonly Device device;

    /// <summary>An encoder over <paramref name="tokenizer"/> and <paramref name="encoder"/> (not owned), whose weights are on <paramref name="device"/>.</summary>
    public PromptEncoder(ClipTokenizer tokenizer, ClipTextEncoder encoder, Device device)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(device);
        this.tokenizer = tokenizer;
        this.encoder = encoder;
        this.device = device;
        chunker = new PromptChunker(tokenizer);
    }

    /// <summary>The conditioning of <paramref name="prompt"/>: <c>[77·chunks, C]</c>.</summary>
    public PromptEmbedding Encode(string prompt, int clipSkip = 1)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return EncodeChunks([chunker.Chunk(prompt)], clipSkip)[0];
    }

    /// <summary>
    /// The conditionings of <paramref name="prompt"/> and <paramref name="negativePrompt"/>, encoded in one call, the
    /// shorter padded with encodings of the empty prompt until both have as many chunks (as A1111 pads cond and uncond).
    /// </summary>
    public (PromptEmbedding Prompt, PromptEmbedding Negative) EncodePair(string prompt, string negativePrompt, int clipSkip = 1)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(negativePrompt);
        var positive = chunker.Chunk(prompt);
        var negative = chunker.Chunk(negativePrompt);
        int chunks = Math.Max(positive.Count, negative.Count);
        var empty = new PromptChunk(tokenizer.Encode(""), Ones(), 0);
        var encoded = EncodeChunks([Pad(positive, chunks, empty), Pad(negative, chunks, empty)], clipSkip);
        return (encoded[0], encoded[1]);
    }

    /// <summary>
    /// A1111's "Original" emphasis on one encoded chunk <paramref name="z"/> <c>[77, C]</c>, in place: every token row is
    /// multiplied by its weight, then the whole chunk by <c>original_mean / new_mean</c>. A chunk whose weights are all 1 is unchanged.
    /// </summary>
    public static void ApplyWeights(Span<float> z, ReadOnlySpan<float> weights)
    {
        if (weights.Length == 0 || z.Length % weights.Length != 0)
            throw new ArgumentException($"{z.Length} hidden values do not split into {weights.Length} token rows.", nameof(weights));
        bool plain = true;
        foreach (var w in weights) plain &= w == 1f;
        if (plain) return;
        int width = z.Length / weights.Length;
        double originalMean = Mean(z);
        for (int token = 0; token < weights.Length; token++)
            foreach (ref var value in z.Slice(token * width, width))
                value *= weights[token];
        float rescale = (float)(originalMean / Mean(z));
        foreach (ref var value in z) value *= rescale;
    }

    /// <summary>Encodes every chunk of every prompt in one text-encoder call and returns one embedding per prompt.</summary>
    private PromptEmbedding[] EncodeChunks(IReadOnlyList<PromptChunk>[] prompts, int clipSkip)
    {
        var chunks = prompts.SelectMany(p => p).ToList();
        const int length = ClipTokenizer.MaxLength;
        var ids = new int[chunks.Count * length];
        for (int c = 0; c < chunks.Count; c++) chunks[c].Ids.CopyTo(ids, c * length);
        float[] hidden;
        int width;
        using (Grad.NoGrad())
        using (var idTensor = Tensor.FromHost(device, ids, chunks.Count, length))
        using (var output = encoder.Encode(idTensor, clipSkip))
        {
            hidden = output.LastHiddenState.Value.ToFloatArray();
            width = output.LastHiddenState.Shape[2];
        }
        for (int c = 0; c < chunks.Count; c++) ApplyWeights(hidden.AsSpan(c * length * width, length * width), chunks[c].Weights);

        var result = new PromptEmbedding[prompts.Length];
        int first = 0;
        for (int p = 0; p < prompts.Length; p++)
        {
            int tokens = prompts[p].Count * length;
            result[p] = new PromptEmbedding(hidden[(first * width)..((first + tokens) * width)], tokens, width);
            first += tokens;
        }
        return result;
    }

    private static IReadOnlyList<PromptChunk> Pad(IReadOnlyList<PromptChunk> chunks, int count, PromptChunk empty) =>
        [.. chunks, .. Enumerable.Repeat(empty, count - chunks.Count)];

    private static float[] Ones()
    {
        var ones = new float[ClipTokenizer.MaxLength];
        Array.Fill(ones, 1f);
        return ones;
    }

    private static double Mean(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (var v in values) sum += v;
        return sum / values.Length;
    }
}
