using System.Text.Json.Serialization;

namespace IlgpuDiffusion.CLora.Library;

/// <summary>
/// How a library's concepts were learned, which decides what it stores per task (see <see cref="ConceptLibrary"/>).
/// The JSON names (<c>c-lora</c>, <c>lora</c>, <c>kv-finetune</c>, <c>token-only</c>) are what <c>library.json</c>
/// and the console use.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<LibraryMethod>))]
public enum LibraryMethod
{
    /// <summary>C-LoRA: a fresh LoRA per task, regularised by the accumulated past deltas P.</summary>
    [JsonStringEnumMemberName(LibraryMethods.CLoraName)]
    CLora,

    /// <summary>Sequential LoRA: a fresh LoRA per task, merged like C-LoRA but without the regulariser.</summary>
    [JsonStringEnumMemberName(LibraryMethods.LoraName)]
    Lora,

    /// <summary>K/V fine-tuning (Custom Diffusion, sequential): dense deltas of the cross-attention K and V weights.</summary>
    [JsonStringEnumMemberName(LibraryMethods.KvFinetuneName)]
    KvFinetune,

    /// <summary>Textual inversion: only the concept token is learned.</summary>
    [JsonStringEnumMemberName(LibraryMethods.TokenOnlyName)]
    TokenOnly,
}

/// <summary>Names and storage properties of <see cref="LibraryMethod"/> values.</summary>
public static class LibraryMethods
{
    public const string CLoraName = "c-lora", LoraName = "lora", KvFinetuneName = "kv-finetune", TokenOnlyName = "token-only";

    /// <summary>The method's name in <c>library.json</c> and on the console.</summary>
    public static string Name(this LibraryMethod method) => method switch
    {
        LibraryMethod.CLora => CLoraName,
        LibraryMethod.Lora => LoraName,
        LibraryMethod.KvFinetune => KvFinetuneName,
        LibraryMethod.TokenOnly => TokenOnlyName,
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
    };

    /// <summary>True for the methods that store low-rank factors per task and their accumulated product P.</summary>
    public static bool StoresFactors(this LibraryMethod method) => method is LibraryMethod.CLora or LibraryMethod.Lora;

    /// <summary>True for the methods that change weights (all but token-only).</summary>
    public static bool StoresDeltas(this LibraryMethod method) => method != LibraryMethod.TokenOnly;
}
