using IlgpuDiffusion.CLora.Library;

namespace IlgpuDiffusion.CLora.Interop;

/// <summary>
/// Exports a concept library for other tools: its UNet weight deltas as one LoRA file (<see cref="LoraFileWriter"/>),
/// and each concept's token row as an A1111 textual-inversion file beside it, named after the token
/// (<c>&lt;dog&gt;.safetensors</c>), since A1111 and <see cref="TextualInversionEmbedding.Read"/> take the token from
/// the file name. All files are written atomically.
/// <list type="bullet">
/// <item>c-lora and lora, without a rank: the tasks' factors concatenated along the rank axis, down = [down_1; down_2; …]
/// and up = [up_1 | up_2 | …], with alpha = rank = Σ r_t, so up·down = Σ_t up_t·down_t exactly.</item>
/// <item>kv-finetune (a rank is required), or c-lora and lora with a rank: each layer's accumulated delta factored by
/// truncated SVD at that rank (<see cref="LowRankExport"/>), with the relative Frobenius error per layer and overall.</item>
/// <item>token-only: no weight deltas, so only the embeddings are written.</item>
/// </list>
/// <code>
/// var result = LibraryExport.Export(ConceptLibrary.Open("runs/pets"), "export/pets.safetensors", LibraryExportFormat.Kohya);
/// </code>
/// </summary>
public static class LibraryExport
{
    public const string Extension = ".safetensors";

    /// <summary>
    /// Writes <paramref name="loraPath"/> (a <c>.safetensors</c> file; its folder is created) and the embeddings beside
    /// it. Every argument is checked before anything is written; a bad one throws <see cref="ArgumentException"/>.
    /// </summary>
    public static LibraryExportResult Export(ConceptLibrary library, string loraPath, LibraryExportFormat format, int? rank = null)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentException.ThrowIfNullOrWhiteSpace(loraPath);
        var method = library.Settings.Method;
        if (!Enum.IsDefined(format)) throw new ArgumentException($"LoRA format {(int)format}: expected kohya or diffusers.", nameof(format));
        if (rank is <= 0) throw new ArgumentException($"rank {rank}: the export rank must be ≥ 1.", nameof(rank));
        if (library.Concepts.Count == 0) throw new ArgumentException($"library '{library.Folder}' has no concepts yet: there is nothing to export.", nameof(library));
        if (method == LibraryMethod.KvFinetune && rank is null)
            throw new ArgumentException($"library '{library.Folder}' is a kv-finetune library: its dense deltas are exported by truncated SVD, so give the rank to keep.", nameof(rank));
        if (!method.StoresDeltas() && rank is not null)
            throw new ArgumentException($"library '{library.Folder}' is token-only: it has no weight deltas to factor at rank {rank}.", nameof(rank));
        var fullPath = Path.GetFullPath(loraPath);
        if (!fullPath.EndsWith(Extension, StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"output '{loraPath}': expected a {Extension} file name (the LoRA is written as safetensors).", nameof(loraPath));
        var folder = Path.GetDirectoryName(fullPath)!;
        var embeddings = library.Concepts.Select(c => new ExportedEmbedding(c.Token, Path.Combine(folder, c.Token + Extension))).ToList();
        if (method.StoresDeltas() && embeddings.FirstOrDefault(e => string.Equals(e.Path, fullPath, StringComparison.OrdinalIgnoreCase)) is { } clash)
            throw new ArgumentException($"output '{loraPath}' is where the embedding of {clash.Token} goes; name the LoRA file differently.", nameof(loraPath));

        var (lora, layers, error) = !method.StoresDeltas() ? ([], [], null)
            : rank is { } kept ? Factored(library, kept)
            : Concatenated(library);
        Directory.CreateDirectory(folder);
        if (lora.Count > 0) Write(fullPath, format, lora, Info(library, fullPath));
        foreach (var (concept, embedding) in library.Concepts.Zip(embeddings))
            new TextualInversionEmbedding(concept.Token, library.TokenRow(concept.Name), library.TokenWidth).Save(embedding.Path);
        return new LibraryExportResult(lora.Count > 0 ? fullPath : null, layers, error, embeddings);
    }

    /// <summary>Each layer's task factors joined along the rank axis: exact, rank Σ r_t.</summary>
    private static (IReadOnlyList<LoraLayerDelta>, IReadOnlyList<ExportedLoraLayer>, double?) Concatenated(ConceptLibrary library)
    {
        var lora = library.Layers.Select(layer => LoraLayerDelta.Concatenate([.. library.Concepts.Select(c => TaskLayer(library, c.Task, layer.Name))])).ToList();
        return (lora, [.. lora.Select(l => new ExportedLoraLayer(l.ModuleName, l.Rank, null))], null);
    }

    private static LoraLayerDelta TaskLayer(ConceptLibrary library, int task, string layer)
    {
        var (down, downShape, up, upShape) = library.TaskFactors(task, layer);
        return new LoraLayerDelta(LoraComponent.UNet, layer, down, downShape, up, upShape);
    }

    /// <summary>Each layer's accumulated delta by truncated SVD at <paramref name="rank"/>, with the errors per layer and overall.</summary>
    private static (IReadOnlyList<LoraLayerDelta>, IReadOnlyList<ExportedLoraLayer>, double?) Factored(ConceptLibrary library, int rank)
    {
        var deltas = library.Layers.Select(l => new DenseLayerDelta(LoraComponent.UNet, l.Name, library.AccumulatedDelta(l.Name), l.Shape)).ToList();
        var factored = LowRankExport.Factorize(deltas, rank);
        double residual = 0, total = 0;
        foreach (var (delta, (_, approximation)) in deltas.Zip(factored))
        {
            double squaredNorm = SquaredNorm(delta.Delta.Span);
            total += squaredNorm;
            residual += squaredNorm * approximation.RelativeError * approximation.RelativeError;
        }
        return ([.. factored.Select(f => f.Layer)],
            [.. factored.Select(f => new ExportedLoraLayer(f.Layer.ModuleName, f.Layer.Rank, f.Approximation.RelativeError))],
            total == 0 ? 0 : Math.Sqrt(residual / total));
    }

    private static double SquaredNorm(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (var v in values) sum += (double)v * v;
        return sum;
    }

    private static LoraExportInfo Info(ConceptLibrary library, string path) =>
        new(Path.GetFileNameWithoutExtension(path), library.Settings.Method.Name(), [.. library.Concepts.Select(c => c.Name)])
        {
            Tokens = [.. library.Concepts.Select(c => c.Token)],
            ModelSha256 = library.Model.Sha256,
        };

    private static void Write(string path, LibraryExportFormat format, IReadOnlyList<LoraLayerDelta> lora, LoraExportInfo info)
    {
        switch (format)
        {
            case LibraryExportFormat.Kohya:
                LoraFileWriter.SaveKohya(path, lora, info);
                break;
            case LibraryExportFormat.Diffusers:
                LoraFileWriter.SaveDiffusers(path, lora, info);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, null);
        }
    }
}
