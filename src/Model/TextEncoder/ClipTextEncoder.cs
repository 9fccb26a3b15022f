using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.TextEncoder;

/// <summary>
/// transformers' CLIPTextModel (the text tower SD 1.x conditions on), built from a <see cref="ClipTextConfig"/> of
/// any width, depth and head count, with weights under <c>text_model.*</c>: token + position embeddings,
/// <see cref="ClipTextConfig.NumHiddenLayers"/> pre-LN <see cref="ClipEncoderLayer"/>s with causal self-attention,
/// and a final layer norm. Token ids stay integers (I32) end to end.
/// <code>
/// using var encoder = new ClipTextEncoder(checkpoint.Config.TextEncoder, checkpoint.TextEncoder);
/// checkpoint.TextEncoder.Complete();
/// using (Grad.NoGrad())
/// using (var output = encoder.Encode(ids))      // ids: I32 [N, 77]
///     ... output.LastHiddenState ...              // [N, 77, C]
/// </code>
/// </summary>
public sealed class ClipTextEncoder : Module
{
    private const string Prefix = "text_model.";

    private readonly Var tokenEmbedding, positionEmbedding;
    private readonly LayerNormLayer finalLayerNorm;
    private Var? extraTokenRows;

    /// <summary>Takes the encoder's weights from <paramref name="weights"/>; the caller then calls <see cref="WeightSet.Complete"/>.</summary>
    public ClipTextEncoder(ClipTextConfig config, WeightSet weights)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        Config = config;
        const string embeddings = Prefix + "embeddings.";
        tokenEmbedding = AddParameter(embeddings + "token_embedding.weight", Var.Constant(
            weights.Take(embeddings + "token_embedding.weight", [config.VocabSize, config.HiddenSize]), embeddings + "token_embedding.weight"));
        positionEmbedding = AddParameter(embeddings + "position_embedding.weight", Var.Constant(
            weights.Take(embeddings + "position_embedding.weight", [config.MaxPositionEmbeddings, config.HiddenSize]), embeddings + "position_embedding.weight"));
        weights.Skip(embeddings + "position_ids"); // 0 … L−1, a buffer some checkpoints carry; computed here instead
        Layers = [.. Enumerable.Range(0, config.NumHiddenLayers)
            .Select(i => AddChild(new ClipEncoderLayer(config, weights, $"{Prefix}encoder.layers.{i}.")))];
        finalLayerNorm = AddChild(new LayerNormLayer(weights, Prefix + "final_layer_norm", config.HiddenSize, (float)config.LayerNormEps));
    }

    public ClipTextConfig Config { get; }

    /// <summary>The encoder layers, first to last.</summary>
    public IReadOnlyList<ClipEncoderLayer> Layers { get; }

    /// <summary>The vocabulary's token table [V, hidden] (frozen; F32, or F16 with f16 weights).</summary>
    public Var TokenEmbedding => tokenEmbedding;

    /// <summary>
    /// Token rows appended after the vocabulary (concept tokens), F32 [k, hidden], or null: id
    /// <see cref="ClipTextConfig.VocabSize"/> + r embeds as row r. The vocabulary's own table stays frozen and is never
    /// copied; gradients reach these rows only. The encoder does not own them (their manager disposes them).
    /// </summary>
    /// <exception cref="ArgumentException">Set to a Var that is not F32 [k, hidden].</exception>
    public Var? ExtraTokenRows
    {
        get => extraTokenRows;
        set
        {
            if (value is not null && (value.Value.DType != DType.F32 || value.Shape.Rank != 2 || value.Shape[1] != Config.HiddenSize))
                throw new ArgumentException($"extra token rows are {value}; expected F32 [rows, {Config.HiddenSize}].", nameof(value));
            extraTokenRows = value;
        }
    }

    /// <summary>
    /// Encodes token ids [N, L] (I32, L ≤ <see cref="ClipTextConfig.MaxPositionEmbeddings"/>). With
    /// <paramref name="clipSkip"/> = 1 the result is transformers' output. Clip skip follows AUTOMATIC1111:
    /// <paramref name="clipSkip"/> = k stops after layer L−k+1, i.e. takes <c>hidden_states[−k]</c>, the hidden state
    /// k−1 layers before the last, and still applies the final layer norm (2 is the usual "clip skip 2").
    /// <see cref="ClipTextOutput.PoolerOutput"/> is that output's row at each sequence's end token, found as
    /// transformers 4.30 does: the first position of the row's largest id (<c>input_ids.argmax(-1)</c>; the end
    /// token 49407 is the largest id of the CLIP vocabulary; a prompt holding an appended concept token therefore
    /// pools at that token, exactly as transformers 4.30 does; SD conditions on the last hidden state only).
    /// </summary>
    public ClipTextOutput Encode(Tensor inputIds, int clipSkip = 1)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        if (inputIds.DType != DType.I32 || inputIds.Shape.Rank != 2)
            throw new ArgumentException($"input ids are {inputIds.DType} {inputIds.Shape}; expected I32 [batch, tokens].", nameof(inputIds));
        int batch = inputIds.Shape[0], length = inputIds.Shape[1];
        if (length > Config.MaxPositionEmbeddings)
            throw new ArgumentException($"input ids have {length} tokens; the text encoder has {Config.MaxPositionEmbeddings} positions.", nameof(inputIds));
        if (clipSkip < 1 || clipSkip > Config.NumHiddenLayers)
            throw new ArgumentOutOfRangeException(nameof(clipSkip), clipSkip, $"clip skip must be 1 … {Config.NumHiddenLayers} (the number of layers).");
        var hostIds = inputIds.ToIntArray();

        var hidden = Embed(inputIds, batch, length);
        foreach (var layer in Layers.Take(Config.NumHiddenLayers - (clipSkip - 1)))
            using (var input = hidden)
                hidden = layer.Forward(input);
        Var last;
        using (hidden) last = finalLayerNorm.Forward(hidden);
        try
        {
            return new ClipTextOutput(last, Pool(last, hostIds, batch, length));
        }
        catch
        {
            last.Dispose();
            throw;
        }
    }

    /// <summary>token_embedding(ids) (extended by <see cref="ExtraTokenRows"/>) + position_embedding(0 … L−1) → [N, L, C].</summary>
    private Var Embed(Tensor inputIds, int batch, int length)
    {
        var positions = new int[batch * length];
        for (int i = 0; i < positions.Length; i++) positions[i] = i % length;
        using var positionIds = Tensor.FromHost(inputIds.Device, positions, batch, length);
        using var tokens = extraTokenRows is null ? Ops.Embedding(tokenEmbedding, inputIds) : Ops.Embedding(tokenEmbedding, extraTokenRows, inputIds);
        using var placed = Ops.Embedding(positionEmbedding, positionIds);
        return Ops.Add(tokens, placed);
    }

    /// <summary>The rows of <paramref name="last"/> [N, L, C] at each sequence's argmax id → [N, C].</summary>
    private static Var Pool(Var last, int[] hostIds, int batch, int length)
    {
        var rows = new int[batch];
        for (int n = 0; n < batch; n++)
        {
            var row = hostIds.AsSpan(n * length, length);
            int argmax = 0;
            for (int i = 1; i < length; i++)
                if (row[i] > row[argmax]) argmax = i;
            rows[n] = n * length + argmax;
        }
        using var rowIds = Tensor.FromHost(last.Device, rows, batch);
        using var flat = Ops.Reshape(last, batch * length, last.Shape[2]);
        return Ops.Embedding(flat, rowIds);
    }
}
