using IlgpuDiffusion.Model.SafeTensors;

namespace IlgpuDiffusion.CLora.Interop;

/// <summary>
/// A textual-inversion embedding: <see cref="Count"/> vectors of the text encoder's width that a prompt token stands
/// for. By A1111's convention the token is the file name without its extension. Read from the A1111/kohya, SDXL and
/// diffusers safetensors layouts (<see cref="TextualInversionFormat"/>); written as A1111 <c>emb_params</c>, the layout
/// A1111, ComfyUI and stable-diffusion.cpp all read. Pickle files (<c>.pt</c>, <c>.bin</c>) are refused.
/// <code>
/// var dog = TextualInversionEmbedding.Read("embeddings/my-dog.safetensors"); // token "my-dog"
/// new TextualInversionEmbedding("v1-dog", vector, 768).Save("export/v1-dog.safetensors");
/// </code>
/// </summary>
public sealed class TextualInversionEmbedding
{
    public const string EmbParamsKey = "emb_params";

    /// <summary>The metadata key the token is saved under.</summary>
    public const string NameMetadataKey = "name";

    private const string StringToParamPrefix = "string_to_param.", ClipLKey = "clip_l";

    private const string Conversion = "import torch; from safetensors.torch import save_file; " +
        "d = torch.load('emb.pt', map_location='cpu', weights_only=True); " +
        "v = next(iter(d['string_to_param'].values())) if 'string_to_param' in d else next(iter(d.values())); " +
        "save_file({'emb_params': v.reshape(-1, v.shape[-1]).contiguous()}, 'emb.safetensors')";

    private readonly float[] vectors;

    /// <summary>An embedding of <paramref name="vectors"/> [n, <paramref name="width"/>] for <paramref name="token"/>.</summary>
    public TextualInversionEmbedding(string token, float[] vectors, int width)
        : this(token, vectors, width, TextualInversionFormat.EmbParams, null)
    {
    }

    private TextualInversionEmbedding(string token, float[] vectors, int width, TextualInversionFormat format, string? storedName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (vectors.Length == 0 || vectors.Length % width != 0)
            throw new ArgumentException($"embedding '{token}': {vectors.Length} values are not a whole number (≥ 1) of {width}-wide vectors.", nameof(vectors));
        Token = token;
        this.vectors = vectors;
        Width = width;
        Format = format;
        StoredName = storedName;
    }

    /// <summary>The token prompts use for it.</summary>
    public string Token { get; }

    /// <summary>The vectors [<see cref="Count"/>, <see cref="Width"/>], row-major.</summary>
    public ReadOnlyMemory<float> Vectors => vectors;

    public int Count => vectors.Length / Width;

    /// <summary>The text encoder width it was made for (768 for SD 1.x).</summary>
    public int Width { get; }

    /// <summary>The layout it was read from (<see cref="TextualInversionFormat.EmbParams"/> when made in memory).</summary>
    public TextualInversionFormat Format { get; }

    /// <summary>The token the file itself names, if any: diffusers' placeholder key or the <c>name</c> metadata.</summary>
    public string? StoredName { get; }

    /// <summary>
    /// Reads an embedding file; its token is <paramref name="token"/>, else the file name without extension. Throws
    /// <see cref="InteropFileException"/> for a pickle or a file with no embedding tensor.
    /// </summary>
    public static TextualInversionEmbedding Read(string path, string? token = null)
    {
        using var reader = InteropFiles.Open(path, "textual-inversion embedding", Conversion);
        var names = reader.Tensors.Select(t => t.Name).ToList();
        var stringToParam = names.Where(n => n.StartsWith(StringToParamPrefix, StringComparison.Ordinal)).ToList();
        var (key, format) = names switch
        {
            _ when names.Contains(EmbParamsKey) => (EmbParamsKey, TextualInversionFormat.EmbParams),
            _ when stringToParam.Count == 1 => (stringToParam[0], TextualInversionFormat.StringToParam),
            _ when names.Contains(ClipLKey) => (ClipLKey, TextualInversionFormat.ClipL),
            [var single] => (single, TextualInversionFormat.Diffusers),
            _ => throw new InteropFileException(reader.Path, $"holds {names.Count} tensors ({string.Join(", ", names.Take(8))}) and none of " +
                "emb_params, one string_to_param.*, clip_l, or a single tensor named by its token; expected a textual-inversion embedding."),
        };
        var info = reader.GetInfo(key);
        var shape = info.Shape;
        if (shape.Count is < 1 or > 2 || shape.Any(d => d <= 0) || !info.DType.IsFloat())
            throw new InteropFileException(reader.Path, $"tensor '{key}' is {info}; expected float vectors [C] or [n, C].");
        string? stored = format == TextualInversionFormat.Diffusers ? key : reader.Metadata.GetValueOrDefault(NameMetadataKey);
        return new TextualInversionEmbedding(token ?? Path.GetFileNameWithoutExtension(reader.Path), reader.ReadF32(key), shape[^1], format, stored);
    }

    /// <summary>Writes the A1111 layout atomically: <c>emb_params</c> [n, C] (F32) with the token as <c>name</c> metadata.</summary>
    public void Save(string path)
    {
        var file = new SafeTensorsWriter();
        file.Metadata[NameMetadataKey] = Token;
        file.Add(EmbParamsKey, vectors, [Count, Width]);
        file.Save(path);
    }
}
