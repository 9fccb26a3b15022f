using System.CommandLine;
using System.Globalization;
using IlgpuDiffusion.CLora.Generation;
using IlgpuDiffusion.CLora.Interop;
using IlgpuDiffusion.CLora.Library;
using IlgpuDiffusion.Model.Pipelines;

namespace IlgpuDiffusion.Cli.Generate;

/// <summary>
/// The options of <c>generate</c> that customise the loaded model (<see cref="PipelineCustomization"/>): <c>--library</c>,
/// <c>--lora FILE[:weight]</c> and <c>--embedding FILE</c> (both repeatable).
/// </summary>
internal sealed class CustomizationOptions
{
    public Option<string?> Library { get; } = new("--library")
    {
        HelpName = "DIR",
        Description = "A concept library trained on this model: prompts may name its concepts as <name>, and its weight deltas are folded into the UNet.",
    };

    public Option<string[]> Loras { get; } = new("--lora")
    {
        HelpName = "FILE[:weight]",
        Description = "A kohya, diffusers or PEFT LoRA .safetensors file, applied with the weight after the last ':' (default 1); repeatable.",
    };

    public Option<string[]> Embeddings { get; } = new("--embedding")
    {
        HelpName = "FILE",
        Description = "A textual-inversion embedding (A1111 or diffusers .safetensors); prompts name it by its file name without extension; repeatable.",
    };

    /// <summary>Adds the three options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { Library, Loras, Embeddings }) command.Options.Add(option);
    }

    /// <summary>
    /// Reads and checks what can be before the model loads: the library (against <paramref name="modelPath"/>'s
    /// identity), the embeddings and the LoRA arguments; null when none is given. With a library, a request whose
    /// prompts name a <c>&lt;name&gt;</c> that is neither a concept nor an embedding is refused.
    /// </summary>
    public Customization? Read(ParseResult parse, string modelPath, TextToImageRequest request)
    {
        var libraryFolder = parse.GetValue(Library);
        var loras = (parse.GetValue(Loras) ?? []).Select(LoraArgument.Parse).ToList();
        var embeddings = (parse.GetValue(Embeddings) ?? []).Select(path => TextualInversionEmbedding.Read(path)).ToList();
        if (libraryFolder is null && loras.Count == 0 && embeddings.Count == 0) return null;
        ConceptLibrary? library = null;
        ModelIdentity? identity = null;
        if (libraryFolder is not null)
        {
            library = ConceptLibrary.Open(libraryFolder);
            identity = ModelIdentity.Compute(modelPath);
            library.CheckModel(identity);
            RefuseUnknownConcepts(request, library, embeddings);
        }
        foreach (var lora in loras)
            if (!File.Exists(lora.Path)) throw new InteropFileException(Path.GetFullPath(lora.Path), "no such LoRA file (--lora FILE[:weight]).");
        return new Customization(library, identity, loras, embeddings);
    }

    /// <summary>What <see cref="Read"/> found, applied to a loaded pipeline by <see cref="Apply"/>.</summary>
    internal sealed record Customization(ConceptLibrary? Library, ModelIdentity? Model, IReadOnlyList<LoraArgument> Loras,
        IReadOnlyList<TextualInversionEmbedding> Embeddings)
    {
        /// <summary>
        /// Applies the library, the embeddings and the LoRAs to <paramref name="pipeline"/>, reporting each to <paramref name="log"/>.
        /// </summary>
        public PipelineCustomization Apply(StableDiffusionPipeline pipeline, TextWriter log)
        {
            var custom = new PipelineCustomization(pipeline);
            try
            {
                if (Library is not null) Report(custom.AddLibrary(Library, Model!), log);
                foreach (var embedding in Embeddings)
                {
                    var added = custom.AddEmbedding(embedding);
                    log.WriteLine($"embedding {embedding.Token}: {added.Count} vector(s), ids {added[0].Id}…{added[^1].Id}");
                }
                foreach (var lora in Loras) Report(custom.AddLora(lora.Path, lora.Weight), log);
                return custom;
            }
            catch
            {
                custom.Dispose();
                throw;
            }
        }

        private static void Report(AppliedLibrary library, TextWriter log) => log.WriteLine(
            $"library {library.Folder}: concepts {string.Join(", ", library.Concepts.Select(c => c.Token))}; " +
            $"deltas folded into {library.FoldedLayers.Count} UNet layer(s)");

        private static void Report(AppliedLora lora, TextWriter log)
        {
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"lora {lora.Path} (weight {lora.Weight}): applied {lora.Layers.Count} layer(s), {lora.Unmatched.Count} key(s) matched nothing"));
            foreach (var layer in lora.Layers) log.WriteLine($"  applied {layer}");
            foreach (var miss in lora.Unmatched) log.WriteLine($"  unmatched {miss}");
        }
    }

    private static void RefuseUnknownConcepts(TextToImageRequest request, ConceptLibrary library, IReadOnlyList<TextualInversionEmbedding> embeddings)
    {
        var known = library.Concepts.Select(c => c.Token).Concat(embeddings.Select(e => e.Token)).ToList();
        var unknown = ConceptSpellings.Unknown(request.Prompt, known).Concat(ConceptSpellings.Unknown(request.NegativePrompt, known)).Distinct().ToList();
        if (unknown.Count == 0) return;
        var concepts = library.Concepts.Count == 0 ? "none" : string.Join(", ", library.Concepts.Select(c => c.Token));
        throw new ArgumentException($"the prompt names {string.Join(", ", unknown)}, which is no concept of library '{library.Folder}' " +
                                    $"(its concepts: {concepts}) nor an --embedding.");
    }
}
