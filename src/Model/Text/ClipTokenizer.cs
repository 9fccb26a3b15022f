using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace IlgpuDiffusion.Model.Text;

/// <summary>
/// The CLIP byte-level BPE tokenizer of Stable Diffusion 1.x, matching transformers' CLIPTokenizer: text cleanup
/// (<see cref="ClipTextCleaner"/>), CLIP's word regex, byte-level BPE with the "&lt;/w&gt;" end-of-word suffix, then
/// <c>[bos] + tokens + [eos]</c> truncated to 77 ids (the last one stays eos) and padded with the eos id.
/// </summary>
public sealed partial class ClipTokenizer
{
    /// <summary>The sequence length of SD 1.x's text encoder.</summary>
    public const int MaxLength = 77;

    private const string StartOfText = "<|startoftext|>";
    private const string EndOfText = "<|endoftext|>";
    private readonly BpeTokenizer bpe;

    private ClipTokenizer(BpeTokenizer bpe, int bosId, int eosId)
    {
        this.bpe = bpe;
        BosId = bosId;
        EosId = eosId;
    }

    /// <summary>Id of &lt;|startoftext|&gt;.</summary>
    public int BosId { get; }

    /// <summary>Id of &lt;|endoftext|&gt;, which SD 1.x also pads with.</summary>
    public int EosId { get; }

    /// <summary>Number of entries in the vocabulary.</summary>
    public int VocabularySize => bpe.Vocabulary.Count;

    /// <summary>
    /// Loads <c>vocab.json</c> and <c>merges.txt</c> from <paramref name="folder"/> (a model's <c>tokenizer/</c>).
    /// </summary>
    /// <exception cref="FileNotFoundException">Either file is missing; the message names it.</exception>
    public static ClipTokenizer FromFolder(string folder)
    {
        var vocab = Path.Combine(folder, "vocab.json");
        var merges = Path.Combine(folder, "merges.txt");
        foreach (var file in new[] { vocab, merges })
            if (!File.Exists(file))
                throw new FileNotFoundException($"tokenizer: {file} not found (a tokenizer folder holds vocab.json and merges.txt).", file);

        using var vocabStream = File.OpenRead(vocab);
        var vocabulary = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, int>>(vocabStream)
            ?? throw new InvalidDataException($"tokenizer: {vocab} is not a JSON object of token → id.");
        foreach (var special in new[] { StartOfText, EndOfText })
            if (!vocabulary.ContainsKey(special))
                throw new InvalidDataException($"tokenizer: {vocab} has no '{special}' token; it is not a CLIP vocabulary.");

        var specials = new Dictionary<string, int> { [StartOfText] = vocabulary[StartOfText], [EndOfText] = vocabulary[EndOfText] };
        var options = new BpeOptions(vocabulary)
        {
            Merges = File.ReadLines(merges).Where(line => !line.StartsWith("#version", StringComparison.Ordinal) && line.Length > 0),
            EndOfWordSuffix = "</w>",
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(ClipWords(), specials),
            SpecialTokens = specials,
            UnknownToken = EndOfText,
        };
        return new ClipTokenizer(BpeTokenizer.Create(options), specials[StartOfText], specials[EndOfText]);
    }

    /// <summary>The BPE ids of <paramref name="prompt"/> after cleanup, without bos/eos and without truncation.</summary>
    public IReadOnlyList<int> Tokenize(string prompt)
    {
        var cleaned = ClipTextCleaner.Clean(prompt);
        return cleaned.Length == 0 ? [] : bpe.EncodeToIds(cleaned, considerPreTokenization: true, considerNormalization: false);
    }

    /// <summary>The 77 input ids of <paramref name="prompt"/>: bos, tokens, eos, truncated and padded with eos.</summary>
    public int[] Encode(string prompt) => Frame(Tokenize(prompt));

    /// <summary>Frames already-tokenized ids as bos + ids + eos, truncated to 77 (ending in eos) and padded with eos.</summary>
    public int[] Frame(IReadOnlyList<int> tokens)
    {
        var ids = new int[MaxLength];
        Array.Fill(ids, EosId);
        ids[0] = BosId;
        int kept = Math.Min(tokens.Count, MaxLength - 2);
        for (int i = 0; i < kept; i++) ids[i + 1] = tokens[i];
        return ids;
    }

    /// <summary>CLIP's word pattern (openai/CLIP simple_tokenizer.py), case-insensitive.</summary>
    [GeneratedRegex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+", RegexOptions.IgnoreCase)]
    private static partial Regex ClipWords();
}
