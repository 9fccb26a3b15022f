namespace IlgpuDiffusion.CLora.Interop;

/// <summary>
/// What an exported LoRA file says about itself in its metadata: kohya's <c>ss_output_name</c> and our
/// <c>idf_method</c> (e.g. <c>clora</c>, <c>lora</c>, <c>kv</c>) and <c>idf_concepts</c> (the concept tokens, as a
/// JSON array).
/// </summary>
public sealed record LoraExportInfo(string OutputName, string Method, IReadOnlyList<string> Concepts);
