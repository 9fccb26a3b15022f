namespace IlgpuDiffusion.CLora.Interop;

/// <summary>
/// What an exported LoRA file says about itself in its metadata: kohya's <c>ss_output_name</c> and our
/// <c>idf_method</c> (e.g. <c>c-lora</c>, <c>lora</c>, <c>kv-finetune</c>) and <c>idf_concepts</c> (the concept names,
/// as a JSON array); when given, <c>idf_tokens</c> (the prompt tokens, a JSON array) and <c>idf_model_sha256</c> (the
/// base model's identity hash).
/// </summary>
public sealed record LoraExportInfo(string OutputName, string Method, IReadOnlyList<string> Concepts)
{
    /// <summary>The prompt token of each concept, e.g. <c>&lt;dog&gt;</c>, in the order of <see cref="Concepts"/>.</summary>
    public IReadOnlyList<string>? Tokens { get; init; }

    /// <summary>The SHA-256 identity of the base model the deltas belong to.</summary>
    public string? ModelSha256 { get; init; }
}
