using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace IlgpuDiffusion.Model.Text;

/// <summary>
/// The CLIP byte-level BPE tokenizer of Stable Diffusion 1.x, matching transformers' CLIPTokenizer: text cleanup
/// (<see cref="ClipTextCleaner"/>), CLIP's word regex, byte-level BPE with the "&lt;/w&gt;" end-of-word suffix, then
/// <c>[bos] + tokens + [eos]</c> truncated to 77 ids (the last one stays eos) and padded with the eos id.
/// Tokens added with <see cref="AddToken(string)"/> (concept tokens such as <c>&lt;my-dog&gt;</c>) take the ids after the
/// vocabulary and are matched before the word split, like transformers' <c>add_tokens</c>; a multi-vector
/// textual-inversion embedding is one text standing for several consecutive ids.
/// </summary>
public sealed partial class ClipTokenizer
{
    /// <summary>The sequence length of SD 1.x's text encoder.</summary>
    public const int MaxLength = 77;

    private const string StartOfText = "<|startoftext|>";
    private const string EndOfText = "<|endoftext|>";
    private readonly BpeTokenizer bpe;
    private readonly Dictionary<string, int> added = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> addedCounts = new(StringComparer.Ordinal);
    private int addedIds;
    private Regex? addedPattern;

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

    /// <summary>Number of ids: the vocabulary's entries plus the added tokens.</summary>
    public int VocabularySize => bpe.Vocabulary.Count + addedIds;

    /// <summary>The added tokens (their cleaned, lower-case text) and their (first) ids.</summary>
    public IReadOnlyDictionary<string, int> AddedTokens => added;

    /// <summary>
    /// Registers <paramref name="text"/> (e.g. <c>&lt;my-dog&gt;</c>) as a single token with the next id after the
    /// vocabulary and the tokens added before it (49408, 49409, … for CLIP), and returns that id, or the existing id
    /// when it was added already. Prompts are matched after cleanup, so case-insensitively (CLIP lower-cases): every
    /// occurrence becomes the token, even inside a word, and the text around it is tokenized as usual — except that a
    /// token beginning (ending) with a letter or digit is not matched after (before) another letter or digit, so an
    /// embedding named <c>cat</c> does not capture <c>category</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The text is empty or holds whitespace after cleanup, or is a special token.</exception>
    public int AddToken(string text) => AddToken(text, 1);

    /// <summary>
    /// Registers <paramref name="text"/> as <paramref name="count"/> consecutive ids (a textual-inversion embedding of
    /// that many vectors, which A1111 expands in place) and returns the first; as <see cref="AddToken(string)"/> otherwise.
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="AddToken(string)"/>, or the text was added with another count.</exception>
    public int AddToken(string text, int count)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var token = ClipTextCleaner.Clean(text);
        if (token.Length == 0 || token.Any(char.IsWhiteSpace))
            throw new ArgumentException($"tokenizer: added token '{text}' must be non-empty and hold no whitespace.", nameof(text));
        if (token is StartOfText or EndOfText)
            throw new ArgumentException($"tokenizer: '{text}' is a special token.", nameof(text));
        if (added.TryGetValue(token, out int existing))
            return addedCounts[token] == count
                ? existing
                : throw new ArgumentException($"tokenizer: '{text}' was added with {addedCounts[token]} id(s), not {count}.", nameof(text));
        int id = VocabularySize;
        added.Add(token, id);
        addedCounts.Add(token, count);
        addedIds += count;
        // Longest first, so a token that extends another wins (as transformers' trie does).
        addedPattern = new Regex(string.Join('|', added.Keys.OrderByDescending(k => k.Length).Select(AddedTokenPattern)), RegexOptions.CultureInvariant);
        return id;
    }

    /// <summary>The token's regex: the escaped text, not glued to a letter or digit on a side where it begins or ends with one.</summary>
    private static string AddedTokenPattern(string token) =>
        (char.IsLetterOrDigit(token[0]) ? @"(?<![\p{L}\p{N}])" : "") + Regex.Escape(token) + (char.IsLetterOrDigit(token[^1]) ? @"(?![\p{L}\p{N}])" : "");

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
        return Create(vocabulary, File.ReadLines(merges).Where(line => !line.StartsWith("#version", StringComparison.Ordinal) && line.Length > 0), vocab);
    }

    /// <summary>
    /// A byte-level tokenizer without merges (every character of a word is a token) whose vocabulary has exactly
    /// <paramref name="vocabularySize"/> ids: the 256 byte symbols, the same with "&lt;/w&gt;", unused fillers, then
    /// &lt;|startoftext|&gt; and &lt;|endoftext|&gt; as the last two ids, as in CLIP. For models built with random
    /// weights (benchmarks), which come without tokenizer files.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The size leaves no room for the byte symbols and the special tokens.</exception>
    public static ClipTokenizer WithoutMerges(int vocabularySize)
    {
        const int minimum = 2 * 256 + 2;
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, minimum);
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        var bytes = ByteSymbols();
        foreach (var symbol in bytes) vocabulary.Add(symbol, vocabulary.Count);
        foreach (var symbol in bytes) vocabulary.Add(symbol + "</w>", vocabulary.Count);
        while (vocabulary.Count < vocabularySize - 2) vocabulary.Add($"<|unused{vocabulary.Count}|>", vocabulary.Count);
        vocabulary.Add(StartOfText, vocabulary.Count);
        vocabulary.Add(EndOfText, vocabulary.Count);
        return Create(vocabulary, [], $"a {vocabularySize}-id vocabulary without merges");
    }

    private static ClipTokenizer Create(Dictionary<string, int> vocabulary, IEnumerable<string> merges, string source)
    {
        foreach (var special in new[] { StartOfText, EndOfText })
            if (!vocabulary.ContainsKey(special))
                throw new InvalidDataException($"tokenizer: {source} has no '{special}' token; it is not a CLIP vocabulary.");

        var specials = new Dictionary<string, int> { [StartOfText] = vocabulary[StartOfText], [EndOfText] = vocabulary[EndOfText] };
        var options = new BpeOptions(vocabulary)
        {
            Merges = merges,
            EndOfWordSuffix = "</w>",
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(ClipWords(), specials),
            SpecialTokens = specials,
            UnknownToken = EndOfText,
        };
        return new ClipTokenizer(BpeTokenizer.Create(options), specials[StartOfText], specials[EndOfText]);
    }

    /// <summary>GPT-2's byte → symbol map (printable bytes stand for themselves, the others for U+0100 onwards), in byte order.</summary>
    private static string[] ByteSymbols()
    {
        var symbols = new string[256];
        int shifted = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            symbols[b] = ((char)(printable ? b : 256 + shifted++)).ToString();
        }
        return symbols;
    }

    /// <summary>The ids of <paramref name="prompt"/> after cleanup (BPE and added tokens), without bos/eos and without truncation.</summary>
    public IReadOnlyList<int> Tokenize(string prompt)
    {
        var cleaned = ClipTextCleaner.Clean(prompt);
        if (addedPattern is null) return Bpe(cleaned);
        var ids = new List<int>();
        int at = 0;
        foreach (Match m in addedPattern.Matches(cleaned))
        {
            ids.AddRange(Bpe(cleaned[at..m.Index]));
            for (int k = 0; k < addedCounts[m.Value]; k++) ids.Add(added[m.Value] + k);
            at = m.Index + m.Length;
        }
        ids.AddRange(Bpe(cleaned[at..]));
        return ids;
    }

    private IReadOnlyList<int> Bpe(string cleaned) =>
        cleaned.Length == 0 ? [] : bpe.EncodeToIds(cleaned, considerPreTokenization: true, considerNormalization: false);

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
