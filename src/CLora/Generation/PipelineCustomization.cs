using IlgpuDiffusion.CLora.Interop;
using IlgpuDiffusion.CLora.Library;
using IlgpuDiffusion.Model.Pipelines;
using IlgpuDiffusion.Model.Text;

namespace IlgpuDiffusion.CLora.Generation;

/// <summary>
/// Customises a loaded <see cref="StableDiffusionPipeline"/> for generation with concept libraries, LoRA files and
/// textual-inversion embeddings. Weight changes are folded into the pipeline's own weights, in place and for good (load
/// the pipeline again to undo them), in F32 on the host and stored back in each weight's dtype (F32 or F16). Added
/// tokens are registered with the pipeline's tokenizer; their rows live as long as this object, so dispose it only
/// after the pipeline's last use. One customization per pipeline.
/// <code>
/// using var pipeline = StableDiffusionPipeline.Load(new ModelSource("sd15"), device);
/// using var custom = new PipelineCustomization(pipeline);
/// custom.AddLibrary(ConceptLibrary.Open("runs/pets"), ModelIdentity.Compute("sd15"));   // prompts may name &lt;rex&gt;
/// var style = custom.AddLora("style.safetensors", 0.8);                                   // style.Unmatched: what was skipped
/// custom.AddEmbedding(TextualInversionEmbedding.Read("embeddings/watercolor.safetensors")); // the token "watercolor"
/// pipeline.Generate(new TextToImageRequest { Prompt = "a watercolor of &lt;rex&gt;" });
/// </code>
/// </summary>
public sealed class PipelineCustomization : IDisposable
{
    private readonly StableDiffusionPipeline pipeline;
    private readonly ConceptTokens tokens;
    private readonly Lazy<PipelineLayers> layers;

    /// <exception cref="ArgumentException">Tokens were added to the pipeline's tokenizer already (another customization).</exception>
    public PipelineCustomization(StableDiffusionPipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        this.pipeline = pipeline;
        tokens = new ConceptTokens(pipeline.Tokenizer, pipeline.TextEncoder);
        layers = new(() => new PipelineLayers(pipeline));
    }

    /// <summary>The modules a LoRA can adapt in this pipeline, for <see cref="LoraFile.Read"/>.</summary>
    public LoraModuleIndex Modules => layers.Value.Index;

    /// <summary>The tokens added so far (concepts and embeddings), in id order.</summary>
    public IReadOnlyList<ConceptToken> Tokens => tokens.Tokens;

    /// <summary>
    /// Adds every concept of <paramref name="library"/> as its token <c>&lt;name&gt;</c> and folds the library's
    /// accumulated weight deltas (Σ_t up_t · down_t for c-lora and lora, the dense delta for kv-finetune) into the UNet.
    /// </summary>
    /// <param name="library">An opened library (<see cref="ConceptLibrary.Open"/>).</param>
    /// <param name="model">The identity of the model this pipeline was loaded from (<see cref="ModelIdentity.Compute"/>).</param>
    /// <exception cref="ConceptLibraryException">The library was trained on another model; nothing is changed.</exception>
    /// <exception cref="InvalidOperationException">The library adapts a layer the UNet lacks or has in another shape; nothing is changed.</exception>
    /// <exception cref="ArgumentException">A concept's token is taken already (an embedding of the same name); nothing is changed.</exception>
    public AppliedLibrary AddLibrary(ConceptLibrary library, ModelIdentity model)
    {
        ArgumentNullException.ThrowIfNull(library);
        library.CheckModel(model);
        var folds = library.Settings.Method.StoresDeltas() && library.Concepts.Count > 0
            ? library.Layers.Select(layer => (Layer: layer, Target: LibraryTarget(library, layer))).ToList()
            : [];
        if (library.Concepts.FirstOrDefault(c => pipeline.Tokenizer.AddedTokens.ContainsKey(ClipTextCleaner.Clean(c.Token))) is { } taken)
            throw new ArgumentException($"library '{library.Folder}': the token {taken.Token} was added already (an embedding or another library of that name).",
                nameof(library));
        foreach (var concept in library.Concepts)
            tokens.Add(concept.Token, library.TokenRow(concept.Name));
        foreach (var (layer, target) in folds)
            target.Add(library.AccumulatedDelta(layer.Name));
        return new AppliedLibrary(library.Folder, library.Concepts, [.. folds.Select(f => f.Layer.Name)]);
    }

    /// <summary>Reads the LoRA at <paramref name="path"/> against this pipeline's modules and applies it (<see cref="AddLora(LoraFile, double)"/>).</summary>
    /// <exception cref="InteropFileException">The file is missing, a pickle, or its tensors cannot form a LoRA.</exception>
    public AppliedLora AddLora(string path, double weight = LoraArgument.DefaultWeight) => AddLora(LoraFile.Read(path, Modules), weight);

    /// <summary>
    /// Folds every layer of <paramref name="lora"/> into the UNet's or text encoder's weight: W += weight · alpha / rank ·
    /// up · down (computed in float64 by <see cref="LoraLayerDelta.ComputeDelta"/>; LoCon convs included).
    /// </summary>
    /// <exception cref="ArgumentException">The weight is not finite, or the file was read against another pipeline's modules.</exception>
    public AppliedLora AddLora(LoraFile lora, double weight = LoraArgument.DefaultWeight)
    {
        ArgumentNullException.ThrowIfNull(lora);
        if (!double.IsFinite(weight)) throw new ArgumentException($"LoRA '{lora.Path}': weight {weight} is not a finite number.", nameof(weight));
        var targets = lora.Layers.Select(layer => layers.Value.Find(layer.Component, layer.ModuleName)
            ?? throw new ArgumentException($"LoRA '{lora.Path}' adapts {layer.Component} '{layer.ModuleName}', which this pipeline lacks: " +
                                           "read it against PipelineCustomization.Modules.", nameof(lora))).ToList();
        for (int i = 0; i < targets.Count; i++)
            targets[i].Add(lora.Layers[i].ComputeDelta(weight));
        return new AppliedLora(lora.Path, weight, lora.Layers, lora.Unmatched);
    }

    /// <summary>
    /// Adds <paramref name="embedding"/> under its token (A1111: the file name): a prompt holding it gets the embedding's
    /// vectors in its place, one token position per vector.
    /// </summary>
    /// <exception cref="ArgumentException">The embedding is for another text-encoder width, or its token is taken already.</exception>
    public IReadOnlyList<ConceptToken> AddEmbedding(TextualInversionEmbedding embedding)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        int width = pipeline.TextEncoder.Config.HiddenSize;
        if (embedding.Width != width)
            throw new ArgumentException($"embedding '{embedding.Token}' has {embedding.Width}-wide vectors; this model's text encoder is {width} wide " +
                                        "(an embedding for another model family?).", nameof(embedding));
        return tokens.AddEmbedding(embedding.Token, embedding.Vectors.Span);
    }

    /// <summary>The <c>&lt;name&gt;</c> spellings in <paramref name="prompt"/> that are no added token (see <see cref="ConceptSpellings.Unknown"/>).</summary>
    public IReadOnlyList<string> UnknownConcepts(string prompt) => ConceptSpellings.Unknown(prompt, pipeline.Tokenizer.AddedTokens.Keys);

    public void Dispose() => tokens.Dispose();

    /// <summary>The UNet layer a library layer folds into, checked against the library's shape.</summary>
    private FoldTarget LibraryTarget(ConceptLibrary library, LibraryLayer layer)
    {
        var target = layers.Value.Find(LoraComponent.UNet, layer.Name)
            ?? throw new InvalidOperationException($"library '{library.Folder}' adapts {layer.Name}, which the UNet does not have.");
        var shape = target.TorchShape;
        if (shape.Count != 2 || shape[0] != layer.Out || shape[1] != layer.In)
            throw new InvalidOperationException($"library '{library.Folder}' adapts {layer.Name} as [{layer.Out}, {layer.In}], " +
                                                $"but the UNet's weight is [{string.Join(", ", shape)}].");
        return target;
    }
}
