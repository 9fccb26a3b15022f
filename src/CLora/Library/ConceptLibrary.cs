using System.Globalization;
using Factors = (float[] down, int[] downShape, float[] up, int[] upShape);

namespace IlgpuDiffusion.CLora.Library;

/// <summary>
/// The persistent state of a continual-customization run, kept in one folder:
/// <list type="bullet">
/// <item><c>library.json</c>: the schema version, the base model (<see cref="ModelIdentity"/>), the
/// <see cref="LibrarySettings"/>, the adapted layers, the token width, the concepts in task order, and the name and
/// SHA-256 of the current tensors file.</item>
/// <item><c>library-NNNN.safetensors</c>: the tensors of that version (see <see cref="LibraryTensors"/>): each task's
/// LoRA factors and the accumulated P = Σ up·down per layer (c-lora, lora), or the accumulated dense delta per layer
/// (kv-finetune), and each concept's token row.</item>
/// <item><c>checkpoints/</c>: the trainer's in-task checkpoints, one folder per concept
/// (<see cref="CheckpointPath"/>, <see cref="LatestCheckpoint"/>).</item>
/// <item><c>library.lock</c>: held while a version is saved.</item>
/// </list>
/// Each added task saves a whole new version atomically: a kill at any moment leaves the previous or the new version,
/// never a mix (the protocol is described on <see cref="LibraryStore"/>). The tensors are held in host memory once
/// opened. An instance is not thread-safe; one process at a time may add tasks.
/// <code>
/// var library = ConceptLibrary.Create("runs/pets", ModelIdentity.Compute("sd15"), settings);
/// library.AddTask(record, factors, tokenRow);             // P += up·down, saved atomically
/// var p = ConceptLibrary.Open("runs/pets").AccumulatedDelta(layer);
/// </code>
/// </summary>
public sealed class ConceptLibrary
{
    /// <summary>The token id of the first concept: the CLIP vocabulary has 49408 entries (0 to 49407).</summary>
    public const int FirstTokenId = 49408;

    private LibraryManifest manifest;
    private IReadOnlyDictionary<string, float[]> tensors;

    private ConceptLibrary(string folder, LibraryManifest manifest, IReadOnlyDictionary<string, float[]> tensors)
    {
        Folder = folder;
        this.manifest = manifest;
        this.tensors = tensors;
    }

    /// <summary>The library folder (full path).</summary>
    public string Folder { get; }

    public ModelIdentity Model => manifest.Model;

    public LibrarySettings Settings => manifest.Settings;

    /// <summary>The concepts, in the order they were learned.</summary>
    public IReadOnlyList<LibraryConcept> Concepts => manifest.Concepts;

    /// <summary>The adapted layers, sorted by name; empty before the first task and for token-only libraries.</summary>
    public IReadOnlyList<LibraryLayer> Layers => manifest.Layers;

    /// <summary>The width C of a token row (768 for SD 1.x); 0 before the first task.</summary>
    public int TokenWidth => manifest.TokenWidth;

    /// <summary>The tensors file of the current version.</summary>
    public string TensorsPath => Path.Combine(Folder, manifest.Tensors.File);

    /// <summary>Test hook: called after each step of a save, so a test can simulate a crash there by throwing.</summary>
    internal Action<CommitStage>? FaultHook { get; set; }

    /// <summary>The token text of a concept: <c>&lt;name&gt;</c>.</summary>
    public static string TokenText(string name) => $"<{name}>";

    /// <summary>
    /// Creates an empty library in <paramref name="folder"/> (created if needed) for the base model
    /// <paramref name="model"/>. Throws <see cref="ConceptLibraryException"/> when the folder already holds a library.
    /// </summary>
    public static ConceptLibrary Create(string folder, ModelIdentity model, LibrarySettings settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        if (!Sha256Files.IsDigest(model.Sha256)) throw new ArgumentException($"model identity '{model.Sha256}' is not a SHA-256 (64 lowercase hex digits).", nameof(model));
        settings.Validate();
        var fullPath = Path.GetFullPath(folder);
        Directory.CreateDirectory(Path.Combine(fullPath, LibraryFiles.Checkpoints));
        var empty = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var pending = new LibraryManifest
        {
            SchemaVersion = LibraryManifest.CurrentSchema,
            Model = model with { Files = [.. model.Files] },
            Settings = settings,
            Tensors = new TensorsFile(LibraryFiles.Tensors(0), Sha256: ""),
            TokenWidth = 0,
            Layers = [],
            Concepts = [],
        };
        return new ConceptLibrary(fullPath, LibraryStore.Commit(fullPath, current: null, pending, empty, faultHook: null), empty);
    }

    /// <summary>
    /// Opens the library in <paramref name="folder"/>, checking the manifest's schema and fields, the tensors file's
    /// SHA-256, and that it holds exactly the tensors and shapes the manifest describes.
    /// </summary>
    public static ConceptLibrary Open(string folder)
    {
        var fullPath = Path.GetFullPath(folder);
        var (manifest, tensors) = LibraryStore.Read(fullPath);
        return new ConceptLibrary(fullPath, manifest, tensors);
    }

    /// <summary>Throws <see cref="ConceptLibraryException"/> naming both hashes when <paramref name="model"/> is not the library's base model.</summary>
    public void CheckModel(ModelIdentity model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Equals(Model)) return;
        throw new ConceptLibraryException(Folder,
            $"it was trained on the base model {Model}, but the model given is {model}. A concept library only applies to the " +
            "exact weights it was trained on: use that model, or start a new library for this one.");
    }

    /// <summary>
    /// Adds a c-lora, lora or token-only task and saves the library. <paramref name="factors"/> maps each adapted layer
    /// to its down factor [r, in] and up factor [out, r] (r = the record's rank; empty for token-only); every task must
    /// adapt the same layers with the same shapes. P += up·down is computed per layer in float64 and stored in fp32.
    /// <paramref name="tokenRow"/> is the concept's learned embedding [C].
    /// </summary>
    public LibraryConcept AddTask(ConceptRecord record, IReadOnlyDictionary<string, Factors> factors, float[] tokenRow)
    {
        ArgumentNullException.ThrowIfNull(factors);
        if (Settings.Method == LibraryMethod.KvFinetune)
            throw new InvalidOperationException($"library '{Folder}' is a kv-finetune library: add its tasks with AddDenseTask.");
        return Add(record, tokenRow, () => factors.Select(f => TaskInputs.FactorLayer(f.Key, f.Value, record.Rank)), (task, layer, merged, updated) =>
        {
            var (down, _, up, _) = factors[layer.Name];
            updated[LibraryTensors.Down(task, layer.Name)] = down.ToArray();
            updated[LibraryTensors.Up(task, layer.Name)] = up.ToArray();
            return DeltaAccumulator.AddProduct(merged, up, down, layer.Out, record.Rank, layer.In);
        });
    }

    /// <summary>
    /// Adds a kv-finetune task and saves the library: <paramref name="deltas"/> maps each adapted layer to this task's
    /// dense weight change [out, in], which is added to the layer's stored delta (in float64, stored in fp32).
    /// </summary>
    public LibraryConcept AddDenseTask(ConceptRecord record, IReadOnlyDictionary<string, (float[] delta, int[] shape)> deltas, float[] tokenRow)
    {
        ArgumentNullException.ThrowIfNull(deltas);
        if (Settings.Method != LibraryMethod.KvFinetune)
            throw new InvalidOperationException($"library '{Folder}' is a {Settings.Method.Name()} library: add its tasks with AddTask.");
        return Add(record, tokenRow, () => deltas.Select(d => TaskInputs.DenseLayer(d.Key, d.Value.delta, d.Value.shape)),
            (_, layer, merged, _) => DeltaAccumulator.AddDense(merged.Span, deltas[layer.Name].delta));
    }

    /// <summary>The sum of all tasks' deltas of <paramref name="layer"/> [out, in]: P for c-lora and lora, the dense delta for kv-finetune.</summary>
    public float[] AccumulatedDelta(string layer)
    {
        if (!Settings.Method.StoresDeltas()) throw new InvalidOperationException($"library '{Folder}' is token-only: it stores no weight deltas.");
        return tensors[LibraryTensors.Merged(Settings.Method, FindLayer(layer).Name)].ToArray();
    }

    /// <summary>The factors task <paramref name="task"/> (0-based) learned for <paramref name="layer"/>: down [r, in] and up [out, r].</summary>
    public Factors TaskFactors(int task, string layer)
    {
        if (!Settings.Method.StoresFactors())
            throw new InvalidOperationException($"library '{Folder}' is a {Settings.Method.Name()} library: it stores no LoRA factors.");
        if ((uint)task >= (uint)Concepts.Count)
            throw new ArgumentOutOfRangeException(nameof(task), task, $"library '{Folder}' has {Concepts.Count} tasks (0 to {Concepts.Count - 1}).");
        var found = FindLayer(layer);
        int rank = Concepts[task].Record.Rank;
        return (tensors[LibraryTensors.Down(task, found.Name)].ToArray(), [rank, found.In],
                tensors[LibraryTensors.Up(task, found.Name)].ToArray(), [found.Out, rank]);
    }

    /// <summary>The learned embedding [C] of the concept named <paramref name="name"/>.</summary>
    public float[] TokenRow(string name) => Concepts.Any(c => c.Name == name)
        ? tensors[LibraryTensors.Token(name)].ToArray()
        : throw new ArgumentException($"concept '{name}' is not in library '{Folder}' (it has {ConceptList()}).", nameof(name));

    /// <summary>
    /// Where the trainer saves concept <paramref name="concept"/>'s checkpoint at <paramref name="step"/>:
    /// <c>checkpoints/{concept}/step-NNNNNN.safetensors</c>. The concept's folder is created.
    /// </summary>
    public string CheckpointPath(string concept, int step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        var folder = CheckpointFolder(concept);
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"{CheckpointFiles.Prefix}{step:D6}{CheckpointFiles.Extension}"));
    }

    /// <summary>The checkpoint of <paramref name="concept"/> with the highest step, or null when it has none.</summary>
    public CheckpointFile? LatestCheckpoint(string concept) => CheckpointFiles.Latest(CheckpointFolder(concept));

    /// <summary>
    /// Deletes <paramref name="concept"/>'s checkpoints with a step below <paramref name="below"/> (all by default, e.g.
    /// once the concept is in the library; the newest one's predecessors after a new checkpoint is written).
    /// </summary>
    public void DeleteCheckpoints(string concept, int below = int.MaxValue)
    {
        foreach (var checkpoint in CheckpointFiles.All(CheckpointFolder(concept)).Where(c => c.Step < below).ToList())
            File.Delete(checkpoint.Path);
    }

    /// <summary>What the library records for a concept added as task <paramref name="task"/>.</summary>
    internal static LibraryConcept Describe(int task, ConceptRecord record, LibraryMethod method, IReadOnlyList<LibraryLayer> layers, int tokenWidth)
    {
        long stored = tokenWidth + (method.StoresFactors()
            ? layers.Sum(l => (long)record.Rank * (l.Out + l.In))
            : layers.Sum(l => l.Size));
        return new LibraryConcept(task, TokenText(record.Name), FirstTokenId + task, stored, record);
    }

    /// <summary>
    /// Validates a task, builds the next version (sharing the unchanged tensors), saves it and only then adopts it, so a
    /// failed save leaves this instance at the version it had. <paramref name="given"/> checks the task's tensors and
    /// describes their layers (after the record is validated); <paramref name="addLayer"/> stores a layer's task tensors
    /// into the new set and returns the layer's new merged delta, given the old one.
    /// </summary>
    private LibraryConcept Add(ConceptRecord record, float[] tokenRow, Func<IEnumerable<LibraryLayer>> given,
        Func<int, LibraryLayer, ReadOnlyMemory<float>, Dictionary<string, float[]>, float[]> addLayer)
    {
        ArgumentNullException.ThrowIfNull(record);
        record.Validate(Settings.Method, Concepts.Select(c => c.Name));
        int tokenWidth = TaskInputs.TokenWidth(record.Name, tokenRow, TokenWidth);
        var layers = TaskInputs.Layers([.. given()], Layers, Settings.Method, record.Name);
        int task = Concepts.Count;
        var concept = Describe(task, record, Settings.Method, layers, tokenWidth);

        var updated = new Dictionary<string, float[]>(tensors, StringComparer.Ordinal) { [LibraryTensors.Token(record.Name)] = tokenRow.ToArray() };
        foreach (var layer in layers)
        {
            var name = LibraryTensors.Merged(Settings.Method, layer.Name);
            var merged = tensors.TryGetValue(name, out var old) ? old : new float[layer.Size];
            updated[name] = addLayer(task, layer, merged, updated);
        }
        var pending = manifest with
        {
            Tensors = new TensorsFile(LibraryFiles.Tensors(LibraryFiles.VersionOf(manifest.Tensors.File) + 1), Sha256: ""),
            TokenWidth = tokenWidth,
            Layers = layers,
            Concepts = [.. Concepts, concept],
        };
        manifest = LibraryStore.Commit(Folder, manifest.Tensors.File, pending, updated, FaultHook);
        tensors = updated;
        return concept;
    }

    private LibraryLayer FindLayer(string name) => Layers.FirstOrDefault(l => l.Name == name)
        ?? throw new ArgumentException(Layers.Count == 0
            ? $"layer '{name}': library '{Folder}' has no layers yet (no task was added)."
            : $"layer '{name}' is not one of the {Layers.Count} layers of library '{Folder}' (first: '{Layers[0].Name}').", nameof(name));

    private string CheckpointFolder(string concept) => ConceptRecord.IsValidName(concept)
        ? Path.Combine(Folder, LibraryFiles.Checkpoints, concept)
        : throw new ArgumentException($"'{concept}' is not a concept name (lowercase ASCII letters, digits, '-' and '_').", nameof(concept));

    private string ConceptList() => Concepts.Count == 0 ? "no concepts" : string.Join(", ", Concepts.Select(c => c.Name));
}
