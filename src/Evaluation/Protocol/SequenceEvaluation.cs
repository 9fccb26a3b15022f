using System.Diagnostics;
using System.Text.Json;
using IlgpuDiffusion.CLora.Library;
using IlgpuDiffusion.Evaluation.Reporting;
using IlgpuDiffusion.Evaluation.Scoring;
using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Evaluation.Protocol;

/// <summary>
/// The continual-customization protocol for one method: learns the concepts in order into DIR/libraries/METHOD; after
/// each task generates the fidelity and context images of every concept learned so far with paired seeds
/// (<see cref="SequenceSettings.RequestsFor"/>), embeds them with CLIP (and DINO), and records everything in
/// DIR/state/METHOD.json after each stage, so an interrupted run resumes where it stopped (a learned task is not
/// retrained, written images are not regenerated). Finally it writes the manifest, the score files and the HTML report
/// over every method found in DIR (<see cref="EvaluationReport"/>).
/// <code>
/// var settings = new SequenceSettings { Concepts = ConceptSpec.LoadList("concepts.json"), Method = "c-lora", Model = identity };
/// new SequenceEvaluation("eval", settings, new TeacherLearner(model, device, trainer), new LibrarySampler(model, device),
///     FeatureExtractors.Of(clip, dino)).Run();
/// </code>
/// </summary>
public sealed class SequenceEvaluation(string outputFolder, SequenceSettings settings, IConceptLearner learner, IConceptSampler sampler, FeatureExtractors extractors)
{
    private readonly EvaluationFolder folder = new(outputFolder);

    /// <summary>Runs (or resumes) the sequence and writes the outputs; returns the method's state.</summary>
    /// <exception cref="ArgumentException">The settings are invalid, or DIR holds a run of this method with other settings.</exception>
    public MethodState Run(SequenceRun? run = null)
    {
        run ??= new SequenceRun();
        settings.Validate();
        var state = OpenState();
        int stopAfter = Math.Min(run.StopAfterTasks ?? settings.Concepts.Count, settings.Concepts.Count);
        for (int task = 0; task < stopAfter; task++)
        {
            run.Cancellation.ThrowIfCancellationRequested();
            if (state.Tasks.Count == task) state.Tasks.Add(new TaskState { Concept = settings.Concepts[task].Name });
            var record = state.Tasks[task];
            if (record.Embedded)
            {
                run.Log?.Invoke($"task {task + 1} ({record.Concept}): done earlier, skipped");
                continue;
            }
            Learn(state, task, record, run);
            Sample(state, task, record, run);
            Embed(state, task, record, run);
        }
        EvaluationReport.Write(folder);
        return state;
    }

    private MethodState OpenState()
    {
        string path = folder.State(settings.Method);
        string fingerprint = settings.Fingerprint();
        var state = MethodState.Load(path);
        if (state is not null && state.Fingerprint != fingerprint)
            throw new ArgumentException($"'{folder.Root}' holds a {settings.Method} evaluation made with other settings (see {path}); " +
                                        "use another output folder, or delete that state file and the method's folders to start over.");
        state ??= new MethodState
        {
            Method = settings.Method,
            Model = settings.Model,
            Fingerprint = fingerprint,
            Settings = JsonSerializer.SerializeToElement(new { settings.ImagesPerConcept, settings.Sampling, settings.Trainer, settings.ContextPrompts }),
            Concepts = [.. settings.Concepts.Select(c => new[] { c.Name, c.ClassWord })],
        };
        state.Save(path);
        return state;
    }

    private void Learn(MethodState state, int task, TaskState record, SequenceRun run)
    {
        if (record.Learned) return;
        var concept = settings.Concepts[task];
        string library = folder.Library(settings.Method);
        var clock = Stopwatch.StartNew();
        var stored = CLora.Training.ConceptTeacher.MethodOf(library) is not null
            ? ConceptLibrary.Open(library).Concepts.FirstOrDefault(c => c.Name == concept.Name)
            : null;
        // Learned before an interruption that came before the state was saved: take the counts from the library.
        var learned = stored is not null
            ? new LearnedTask(stored.Record.TrainedParameters, stored.StoredParameters)
            : learner.Learn(library, concept, run.Cancellation);
        record.Learned = true;
        record.TrainedParameters = learned.TrainedParameters;
        record.StoredParameters = learned.StoredParameters;
        record.TrainSeconds = stored?.Record.WallTime.TotalSeconds ?? clock.Elapsed.TotalSeconds;
        state.Save(folder.State(settings.Method));
        run.Log?.Invoke($"task {task + 1} ({concept.Name}): learned, {learned.TrainedParameters:N0} trained / {learned.StoredParameters:N0} stored parameters");
    }

    private void Sample(MethodState state, int task, TaskState record, SequenceRun run)
    {
        if (record.Sampled) return;
        var clock = Stopwatch.StartNew();
        var requests = Enumerable.Range(0, task + 1).SelectMany(settings.RequestsFor).ToList();
        var missing = requests.Where(r => !File.Exists(folder.Full(PathOf(task, r)))).ToList();
        var images = missing.Count == 0 ? [] : sampler.Generate(folder.Library(settings.Method), missing, settings.Sampling);
        string sampler0 = images.Count > 0 ? images[0].Sampler : settings.Sampling.Scheduler ?? "model default";
        for (int k = 0; k < missing.Count; k++)
        {
            string path = folder.Full(PathOf(task, missing[k]));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            PngWriter.Save(path, images[k].Image);
        }
        record.Images.Clear();
        record.Images.AddRange(requests.Select(r => new ImageRecord(PathOf(task, r), r.Concept, r.Kind.ToString().ToLowerInvariant(), r.Index,
            r.Prompt, r.ScoringPrompt, r.Seed, sampler0)));
        record.Sampled = true;
        record.SampleSeconds += clock.Elapsed.TotalSeconds;
        state.Save(folder.State(settings.Method));
        run.Log?.Invoke($"task {task + 1}: sampled {missing.Count} images ({requests.Count - missing.Count} found)");
    }

    private void Embed(MethodState state, int task, TaskState record, SequenceRun run)
    {
        var clock = Stopwatch.StartNew();
        foreach (var concept in settings.Concepts.Take(task + 1))
        {
            run.Cancellation.ThrowIfCancellationRequested();
            EmbedReal(concept);
            var images = record.Images.Where(i => i.Concept == concept.Name).ToList();
            var fidelity = Read(images.Where(i => i.Kind == "fidelity"));
            var context = images.Where(i => i.Kind == "context").ToList();
            var sets = new Dictionary<string, float[][]>
            {
                ["clip_fidelity"] = extractors.ClipImages.EmbedImages(fidelity),
                ["clip_context"] = extractors.ClipImages.EmbedImages(Read(context)),
                ["text_context"] = extractors.ClipTexts.EmbedTexts([.. context.Select(i => i.ScoringPrompt)]),
            };
            if (extractors.Dino is { } dino) sets["dino_fidelity"] = dino.EmbedImages(fidelity);
            EmbeddingFile.Save(folder.TaskEmbeddings(settings.Method, task, concept.Name), sets);
        }
        record.Embedded = true;
        record.ScoreSeconds = clock.Elapsed.TotalSeconds;
        state.Save(folder.State(settings.Method));
        run.Log?.Invoke($"task {task + 1}: embedded");
    }

    /// <summary>Embeds a concept's real images once for the whole folder (every method shares them).</summary>
    private void EmbedReal(ConceptSpec concept)
    {
        string path = folder.RealEmbeddings(concept.Name);
        if (File.Exists(path)) return;
        var real = ImageFolder.Read(concept.Images, 2);
        var sets = new Dictionary<string, float[][]> { ["clip"] = extractors.ClipImages.EmbedImages(real) };
        if (extractors.Dino is { } dino) sets["dino"] = dino.EmbedImages(real);
        EmbeddingFile.Save(path, sets);
    }

    private string PathOf(int task, SampleRequest request) => EvaluationFolder.ImagePath(settings.Method, task, request.Concept, request.FileName);

    private IReadOnlyList<RgbImage> Read(IEnumerable<ImageRecord> images) => [.. images.Select(i => ImageFile.Read(folder.Full(i.Path)))];
}
