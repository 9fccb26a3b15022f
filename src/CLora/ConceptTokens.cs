using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Text;
using IlgpuDiffusion.Model.TextEncoder;

namespace IlgpuDiffusion.CLora;

/// <summary>
/// The concept tokens V*_1, V*_2, … (docs/clora-spec.md §4): new tokens appended after the base vocabulary (ids
/// 49408, 49409, … for CLIP). Each is registered with the tokenizer, so <c>&lt;name&gt;</c> in a prompt becomes its
/// id, and owns one row of <see cref="Rows"/>, which the text encoder reads for ids past its frozen table (that table
/// is never copied). At most one token trains at a time, the current task's: <see cref="Rows"/> is a trainable leaf
/// then, and the optimizer steps only <see cref="TrainingRow"/> with <see cref="TrainingGradient"/>, so the other
/// rows stay exactly as they are. Disposing releases the rows and unhooks them from the encoder (the tokenizer keeps
/// the tokens).
/// </summary>
public sealed class ConceptTokens : IDisposable
{
    private readonly ClipTokenizer tokenizer;
    private readonly ClipTextEncoder encoder;
    private readonly List<ConceptToken> tokens = [];
    private readonly Lazy<float> embeddingStd;

    /// <summary>Manages the concept tokens of <paramref name="tokenizer"/> and <paramref name="encoder"/>.</summary>
    /// <exception cref="ArgumentException">The tokenizer already has added tokens, or its vocabulary is not the encoder's.</exception>
    public ConceptTokens(ClipTokenizer tokenizer, ClipTextEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(encoder);
        if (tokenizer.VocabularySize != encoder.Config.VocabSize)
            throw new ArgumentException(
                $"the tokenizer has {tokenizer.VocabularySize} ids but the text encoder's table {encoder.Config.VocabSize} rows; " +
                "concept tokens must be added through one ConceptTokens.", nameof(tokenizer));
        this.tokenizer = tokenizer;
        this.encoder = encoder;
        embeddingStd = new(() => StandardDeviation(encoder.TokenEmbedding.Value));
    }

    /// <summary>The tokens, in id order.</summary>
    public IReadOnlyList<ConceptToken> Tokens => tokens;

    /// <summary>The token being trained, or null.</summary>
    public ConceptToken? Training { get; private set; }

    /// <summary>The rows [k, hidden] (F32), also the encoder's <see cref="ClipTextEncoder.ExtraTokenRows"/>; null before the first token.</summary>
    public Var? Rows { get; private set; }

    /// <summary>The trained token's row of <see cref="Rows"/>, for the optimizer.</summary>
    /// <exception cref="InvalidOperationException">No token is training.</exception>
    public TensorSlice TrainingRow
    {
        get
        {
            var token = RequireTraining();
            return TensorSlice.Row(Rows!.Value, token.Row);
        }
    }

    /// <summary>The trained token's row of the rows' gradient, or null before a backward pass reached it.</summary>
    /// <exception cref="InvalidOperationException">No token is training.</exception>
    public TensorSlice? TrainingGradient
    {
        get
        {
            var token = RequireTraining();
            return Rows!.Grad is { } grad ? TensorSlice.Row(grad, token.Row) : (TensorSlice?)null;
        }
    }

    /// <summary>The standard deviation of the base token table (unbiased, as torch.std), the scale of a new token.</summary>
    public float EmbeddingStd => embeddingStd.Value;

    /// <summary>
    /// Adds a new concept's token and makes it the trained one (the previous one freezes). Its row is drawn from
    /// N(0, σ²) with σ = <see cref="EmbeddingStd"/> (a completely random start at the table's scale), with Philox
    /// from <paramref name="seed"/>, so the same seed gives the same row on every device.
    /// </summary>
    /// <param name="text">The token as written in prompts: <c>&lt;name&gt;</c>, matched case-insensitively.</param>
    /// <param name="seed">The seed of the row.</param>
    /// <exception cref="ArgumentException">The text is not <c>&lt;name&gt;</c>, or is a token already.</exception>
    public ConceptToken Add(string text, ulong seed)
    {
        int channels = encoder.Config.HiddenSize;
        float[] row;
        using (var normal = Tensor.Empty(encoder.TokenEmbedding.Device, DType.F32, 1, channels))
        {
            Philox.Normal(normal, seed);
            row = normal.ToFloatArray();
        }
        float std = EmbeddingStd;
        for (int c = 0; c < row.Length; c++) row[c] *= std;
        return Add(text, row, train: true);
    }

    /// <summary>
    /// Adds a token with the given row values (a concept library's stored token, an imported embedding), trained
    /// when <paramref name="train"/> (the previous trained token then freezes), frozen otherwise.
    /// </summary>
    /// <exception cref="ArgumentException">The text is not <c>&lt;name&gt;</c> or is a token already, or the row is not hidden-sized.</exception>
    public ConceptToken Add(string text, ReadOnlySpan<float> row, bool train = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        int channels = encoder.Config.HiddenSize;
        if (row.Length != channels)
            throw new ArgumentException($"concept token {text}: the row has {row.Length} values, the text encoder {channels}.", nameof(row));
        if (text.Length < 3 || text[0] != '<' || text[^1] != '>')
            throw new ArgumentException($"concept token '{text}' must be written <name>, so it cannot capture an ordinary word.", nameof(text));
        return AddRows(text, row, train)[0];
    }

    /// <summary>
    /// Adds a textual-inversion embedding, frozen: <paramref name="text"/> (any text without whitespace; by A1111's
    /// convention the file name) stands for the <paramref name="vectors"/> [n, hidden], n consecutive ids, one
    /// <see cref="ConceptToken"/> each (all with this text), which a prompt gets in place of the text.
    /// </summary>
    /// <exception cref="ArgumentException">The text is a token already or holds whitespace, or the vectors are not whole hidden-sized rows.</exception>
    public IReadOnlyList<ConceptToken> AddEmbedding(string text, ReadOnlySpan<float> vectors)
    {
        ArgumentNullException.ThrowIfNull(text);
        int channels = encoder.Config.HiddenSize;
        if (vectors.Length == 0 || vectors.Length % channels != 0)
            throw new ArgumentException($"embedding '{text}': {vectors.Length} values are not whole vectors of the text encoder's width {channels}.", nameof(vectors));
        return AddRows(text, vectors, train: false);
    }

    /// <summary>Registers <paramref name="text"/> as one id per row of <paramref name="rows"/> and appends the rows (the first trained when <paramref name="train"/>).</summary>
    private ConceptToken[] AddRows(string text, ReadOnlySpan<float> rows, bool train)
    {
        int channels = encoder.Config.HiddenSize, count = rows.Length / channels;
        int expected = encoder.Config.VocabSize + tokens.Count;
        if (tokenizer.AddedTokens.ContainsKey(ClipTextCleaner.Clean(text)))
            throw new ArgumentException($"token '{text}' was added already.", nameof(text));
        int id = tokenizer.AddToken(text, count);
        if (id != expected)
            throw new InvalidOperationException($"the tokenizer gave '{text}' id {id}, expected {expected}: tokens were added to it elsewhere.");
        var added = Enumerable.Range(0, count).Select(k => new ConceptToken(text, id + k, tokens.Count + k)).ToArray();
        float[] all = [.. CurrentValues(), .. rows];
        tokens.AddRange(added);
        if (train) Training = added[0];
        Replace(all);
        return added;
    }

    /// <summary>Ends training (end of a task): every row is frozen and receives no gradient.</summary>
    public void Freeze()
    {
        Training = null;
        if (Rows is not null) Replace(CurrentValues());
    }

    /// <summary>The current values of <paramref name="token"/>'s row (for saving or exporting it).</summary>
    public float[] ReadRow(ConceptToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        int channels = encoder.Config.HiddenSize;
        return CurrentValues().AsSpan(token.Row * channels, channels).ToArray();
    }

    public void Dispose()
    {
        if (ReferenceEquals(encoder.ExtraTokenRows, Rows)) encoder.ExtraTokenRows = null;
        Rows?.Dispose();
        Rows = null;
    }

    /// <summary>The rows' values as training left them (none before the first token).</summary>
    private float[] CurrentValues() => Rows?.Value.ToFloatArray() ?? [];

    /// <summary>Replaces <see cref="Rows"/> by a new leaf holding <paramref name="all"/> (trainable while a token trains).</summary>
    private void Replace(float[] all)
    {
        var tensor = Tensor.FromHost(encoder.TokenEmbedding.Device, all, tokens.Count, encoder.Config.HiddenSize);
        var rows = Training is null ? Var.Constant(tensor, "concept_tokens") : Var.Parameter(tensor, "concept_tokens");
        Rows?.Dispose();
        Rows = rows;
        encoder.ExtraTokenRows = rows;
    }

    private ConceptToken RequireTraining() => Training ?? throw new InvalidOperationException("no concept token is training.");

    /// <summary>torch.std of a whole F32 or F16 table (unbiased), in float64 on the host.</summary>
    private static float StandardDeviation(Tensor table)
    {
        var half = table.DType == DType.F16 ? table.ToHalfArray() : null;
        var single = half is null ? table.ToFloatArray() : null;
        double At(int i) => half is null ? single![i] : (double)half[i];
        int n = table.Count;
        double sum = 0, squares = 0;
        for (int i = 0; i < n; i++) sum += At(i);
        double mean = sum / n;
        for (int i = 0; i < n; i++) squares += (At(i) - mean) * (At(i) - mean);
        return (float)Math.Sqrt(squares / (n - 1));
    }
}
