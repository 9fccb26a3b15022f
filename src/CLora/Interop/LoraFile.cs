namespace IlgpuDiffusion.CLora.Interop;

/// <summary>
/// A LoRA read from a safetensors file in any of the kohya, diffusers and PEFT dialects (<see cref="LoraDialect"/>),
/// as one <see cref="LoraLayerDelta"/> per adapted module under its diffusers name, with every tensor that was not
/// applied listed in <see cref="Unmatched"/> and why. Pickle files (<c>.pt</c>, <c>.bin</c>, <c>.ckpt</c>) are refused.
/// <code>
/// var lora = LoraFile.Read("style.safetensors", LoraModuleIndex.From(checkpoint));
/// foreach (var miss in lora.Unmatched) Console.Error.WriteLine($"not applied: {miss}");
/// foreach (var layer in lora.Layers) Merge(layer.Component, layer.ModuleName, layer.ComputeDelta(weight));
/// </code>
/// Writing: <see cref="LoraFileWriter"/>.
/// </summary>
public sealed class LoraFile
{
    internal LoraFile(string path, IReadOnlyDictionary<string, string> metadata, IReadOnlyList<LoraLayerDelta> layers,
        IReadOnlyList<LoraUnmatchedKey> unmatched, IReadOnlySet<LoraDialect> dialects)
    {
        Path = path;
        Metadata = metadata;
        Layers = layers;
        Unmatched = unmatched;
        Dialects = dialects;
    }

    /// <summary>The full path of the file.</summary>
    public string Path { get; }

    /// <summary>The file's <c>__metadata__</c> (kohya's <c>ss_*</c> keys, ours <c>idf_*</c>…).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The layers, sorted by component and module name.</summary>
    public IReadOnlyList<LoraLayerDelta> Layers { get; }

    /// <summary>The tensors that were not applied, sorted by name.</summary>
    public IReadOnlyList<LoraUnmatchedKey> Unmatched { get; }

    /// <summary>The dialects the layers were written in (usually one).</summary>
    public IReadOnlySet<LoraDialect> Dialects { get; }

    /// <summary>
    /// Reads <paramref name="path"/>, resolving its module names against <paramref name="modules"/>. Throws
    /// <see cref="InteropFileException"/> for a pickle, and for tensors that cannot form a LoRA (factor ranks that
    /// differ, an alpha that is not a scalar…); a module the model lacks or whose shape differs is only reported.
    /// </summary>
    public static LoraFile Read(string path, LoraModuleIndex modules) => LoraFileReader.Read(path, modules);
}
