using IlgpuDiffusion.Model.Text;

namespace IlgpuDiffusion.Model.Prompts;

/// <summary>
/// Turns a prompt into 77-token chunks for the text encoder as A1111 does for prompts longer than 75 tokens
/// (<c>FrozenCLIPEmbedderWithCustomWordsBase.tokenize_line</c>): each <see cref="PromptSegment"/> is tokenized on its
/// own and its tokens carry its weight; a chunk holds 75 tokens, and when it is full and a comma is among its last
/// <see cref="CommaBacktrack"/> tokens, the tokens after that comma move on to the next chunk; BREAK pads the current
/// chunk; every chunk is framed as bos + 75 + eos. A prompt without attention syntax or BREAK of at most 75 tokens
/// gives exactly <see cref="ClipTokenizer.Encode"/>'s ids with all weights 1.
/// </summary>
public sealed class PromptChunker
{
    /// <summary>Prompt tokens per chunk: the encoder's 77 minus bos and eos.</summary>
    public const int ChunkLength = ClipTokenizer.MaxLength - 2;

    /// <summary>A1111's default <c>comma_padding_backtrack</c>.</summary>
    public const int CommaBacktrack = 20;

    private readonly ClipTokenizer tokenizer;
    private readonly int commaId;

    public PromptChunker(ClipTokenizer tokenizer)
    {
        this.tokenizer = tokenizer;
        var comma = tokenizer.Tokenize(",");
        if (comma.Count != 1)
            throw new ArgumentException($"tokenizer: ',' gives {comma.Count} tokens, expected one (',</w>' of the CLIP vocabulary).", nameof(tokenizer));
        commaId = comma[0];
    }

    /// <summary>Parses <paramref name="prompt"/> with <see cref="PromptParser"/> and chunks it; an empty prompt gives one chunk of padding.</summary>
    public IReadOnlyList<PromptChunk> Chunk(string prompt) => Chunk(PromptParser.Parse(prompt));

    /// <summary>Chunks already parsed segments.</summary>
    public IReadOnlyList<PromptChunk> Chunk(IReadOnlyList<PromptSegment> segments)
    {
        var chunks = new List<PromptChunk>();
        var ids = new List<int>(ChunkLength);
        var weights = new List<float>(ChunkLength);
        int lastComma = -1;

        void Close()
        {
            chunks.Add(Frame(ids, weights));
            ids.Clear();
            weights.Clear();
            lastComma = -1;
        }

        foreach (var segment in segments)
        {
            if (segment.IsBreak)
            {
                Close();
                continue;
            }
            foreach (int token in tokenizer.Tokenize(segment.Text))
            {
                if (token == commaId)
                    lastComma = ids.Count;
                else if (ids.Count == ChunkLength && lastComma != -1 && ids.Count - lastComma <= CommaBacktrack)
                {
                    int cut = lastComma + 1;
                    var movedIds = ids[cut..];
                    var movedWeights = weights[cut..];
                    ids.RemoveRange(cut, ids.Count - cut);
                    weights.RemoveRange(cut, weights.Count - cut);
                    Close();
                    ids.AddRange(movedIds);
                    weights.AddRange(movedWeights);
                }
                if (ids.Count == ChunkLength) Close();
                ids.Add(token);
                weights.Add((float)segment.Weight);
            }
        }
        if (ids.Count > 0 || chunks.Count == 0) Close();
        return chunks;
    }

    private PromptChunk Frame(List<int> ids, List<float> weights)
    {
        var framedWeights = new float[ClipTokenizer.MaxLength];
        Array.Fill(framedWeights, 1f);
        weights.CopyTo(framedWeights, 1);
        return new PromptChunk(tokenizer.Frame(ids), framedWeights, ids.Count);
    }
}
