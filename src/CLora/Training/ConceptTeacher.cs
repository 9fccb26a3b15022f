using System.Diagnostics;
using System.Globalization;
using IlgpuDiffusion.CLora.Library;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Images;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Pipelines;
using IlgpuDiffusion.Model.Schedulers;

namespace IlgpuDiffusion.CLora.Training;

/// <summary>
/// Learns one concept into a concept library, in process (what the <c>train</c> command runs): opens the library in
/// the folder (checking its base model) or creates one for the options' method, λ and rank; loads the model, restores
/// the past concepts (<see cref="LibraryState.Restore"/>), adds the concept's token, prepares its images (and the
/// class images of prior preservation), resumes from the concept's latest checkpoint if an earlier call was
/// interrupted, trains (<see cref="CLoraTrainer"/>), and saves the task into the library atomically. Checkpoints go to
/// <c>LIB/checkpoints/NAME/step-NNNNNN.safetensors</c> (only the newest is kept, and all are deleted once the concept
/// is saved); validation images to <c>LIB/validation/NAME-step-NNNNNN.png</c>. Everything loaded is disposed before
/// it returns; nothing is written to the console.
/// <code>
/// using var device = Device.Open(DeviceSpec.Parse("cuda"));
/// var learned = ConceptTeacher.Learn(new ModelSource("sd15"), device, "runs/pets",
///     new ConceptLesson { Name = "rex", Images = "photos/rex", ClassWord = "dog" },
///     new TrainerOptions { Steps = 500, CheckpointEvery = 100 });
/// Console.WriteLine($"{learned.Concept.Token}: {learned.TrainedParameters} trained, {learned.StoredParameters} stored");
/// </code>
/// </summary>
public static class ConceptTeacher
{
    /// <summary>The subfolder of a library that holds validation images.</summary>
    public const string ValidationFolder = "validation";

    /// <summary>Added to the seed of the class images' batches, so their draws differ from the concept's.</summary>
    private const ulong ClassSeedOffset = 0x632BE59BD9B4E019UL;

    /// <summary>The method of the library in <paramref name="folder"/>, or null when the folder holds none.</summary>
    public static TrainingMethod? MethodOf(string folder) =>
        File.Exists(Path.Combine(folder, LibraryFiles.Manifest)) ? ConceptLibrary.Open(folder).Settings.Method.ToTrainingMethod() : null;

    /// <summary>
    /// Learns <paramref name="lesson"/> into the library in <paramref name="libraryFolder"/>. A new library takes the
    /// method, λ (c-lora only) and rank of <paramref name="options"/>; an existing one must have the options' method
    /// and trains with its own λ. Call again with the same arguments after an interruption to resume.
    /// </summary>
    /// <exception cref="ArgumentException">The lesson, options or validation settings are invalid, the concept is already in the
    /// library, or the method does not match the library's.</exception>
    /// <exception cref="ConceptLibraryException">The library cannot be read, or was trained on another model.</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled (the last checkpoint stays resumable).</exception>
    public static LearnedConcept Learn(ModelSource model, Device device, string libraryFolder, ConceptLesson lesson, TrainerOptions options, LearningRun? run = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(lesson);
        ArgumentNullException.ThrowIfNull(options);
        run ??= new LearningRun();
        Check(lesson, options, run);
        var clock = Stopwatch.StartNew();
        var library = OpenOrCreate(libraryFolder, ModelIdentity.Compute(model.ModelPath), options);
        if (library.Concepts.Any(c => c.Name == lesson.Name))
            throw new ArgumentException($"concept '{lesson.Name}' is already in library '{library.Folder}'.", nameof(lesson));
        options = options with { Lambda = (float)library.Settings.Lambda };

        device.Memory.ResetPeak();
        long peak = 0;
        using var checkpoint = CheckpointLoader.Open(model, device);
        var schedule = new NoiseSchedule(SchedulerConfig.Load(checkpoint.Config.SchedulerConfigPath
            ?? throw new ArgumentException($"model '{model.ModelPath}' has no scheduler config; give a config folder.", nameof(model))));
        using var pipeline = StableDiffusionPipeline.Load(checkpoint);
        using var tokens = new ConceptTokens(pipeline.Tokenizer, pipeline.TextEncoder);
        using var past = LibraryState.Restore(library, pipeline.UNet, tokens, device);
        var token = tokens.Add(ConceptLibrary.TokenText(lesson.Name), options.Seed);
        var data = ConceptDataset.Load(lesson.Images, token.Text, pipeline.Tokenizer, pipeline.Vae, device, options);
        var classData = lesson.ClassImages is null ? null
            : ConceptDataset.LoadClassImages(lesson.ClassImages, lesson.ClassPrompt!, pipeline.Tokenizer, pipeline.Vae, device, options);

        var latest = library.LatestCheckpoint(lesson.Name);
        if (latest is not null) run.Log?.Invoke($"resuming {lesson.Name} from step {latest.Step} ({latest.Path})");
        var sink = new LibraryTaskSink(library, lesson.Name, lesson.ClassWord);
        var training = new TrainingRun
        {
            Progress = run.Progress,
            CheckpointPath = step => library.CheckpointPath(lesson.Name, step),
            ResumeFrom = latest?.Path,
            Cancellation = run.Cancellation,
            AfterStep = step =>
            {
                if (options.CheckpointEvery > 0 && step % options.CheckpointEvery == 0) library.DeleteCheckpoints(lesson.Name, below: step);
                if (run.Validation is { } validation && step % validation.Every == 0)
                {
                    peak = Math.Max(peak, device.Memory.PeakReservedBytes);
                    run.Log?.Invoke($"wrote {Validate(pipeline, library, lesson.Name, step, validation, options.Resolution)}");
                }
            },
        };
        int timesteps = schedule.TrainTimesteps;
        var task = new CLoraTrainer(pipeline.UNet, pipeline.TextEncoder, tokens, past, schedule).Train(
            data.Batches(device, options, timesteps), options, sink, training,
            classData?.Batches(device, options with { Seed = unchecked(options.Seed + ClassSeedOffset) }, timesteps));
        library.DeleteCheckpoints(lesson.Name);
        peak = Math.Max(peak, device.Memory.PeakReservedBytes);
        return new LearnedConcept(sink.Added!, options.Method, options.EffectiveLambda, latest?.Step, task.TrainedParameters, clock.Elapsed, peak);
    }

    /// <summary>Refuses an invalid lesson or run before anything is loaded, naming what is wrong.</summary>
    private static void Check(ConceptLesson lesson, TrainerOptions options, LearningRun run)
    {
        if (!ConceptRecord.IsValidName(lesson.Name))
            throw new ArgumentException(
                $"concept name '{lesson.Name}': expected 1 to 64 lowercase ASCII letters, digits, '-' or '_', starting with a letter or digit.", nameof(lesson));
        if (lesson.ClassImages is not null && string.IsNullOrWhiteSpace(lesson.ClassPrompt))
            throw new ArgumentException("prior preservation needs a class prompt with the class images (e.g. \"a photo of a dog\").", nameof(lesson));
        if (lesson.ClassImages is null && lesson.ClassPrompt is not null)
            throw new ArgumentException("a class prompt was given without class images.", nameof(lesson));
        options.Validate();
        run.Validation?.Validate();
    }

    /// <summary>Opens the library in <paramref name="folder"/> and checks its model and method, or creates one there when it has none.</summary>
    private static ConceptLibrary OpenOrCreate(string folder, ModelIdentity model, TrainerOptions options)
    {
        var method = options.Method.ToLibraryMethod();
        if (!File.Exists(Path.Combine(folder, LibraryFiles.Manifest)))
            return ConceptLibrary.Create(folder, model, new LibrarySettings
            {
                Method = method,
                Lambda = options.EffectiveLambda,
                Rank = method.StoresFactors() ? options.Rank : 0,
                TargetPattern = AdapterOptions.CrossAttentionKeyValue,
            });
        var library = ConceptLibrary.Open(folder);
        library.CheckModel(model);
        if (library.Settings.Method != method)
            throw new ArgumentException($"library '{library.Folder}' is a {library.Settings.Method.Name()} library; method {method.Name()} does not match it.", nameof(options));
        return library;
    }

    /// <summary>Generates one validation image with the current weights and writes it atomically; returns its path.</summary>
    private static string Validate(StableDiffusionPipeline pipeline, ConceptLibrary library, string concept, int step, ValidationSettings settings, int resolution)
    {
        var result = pipeline.Generate(new TextToImageRequest
        {
            Prompt = settings.Prompt,
            Steps = settings.Steps,
            Guidance = settings.Guidance,
            Seed = settings.Seed,
            Width = resolution,
            Height = resolution,
        });
        var folder = Path.Combine(library.Folder, ValidationFolder);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"{concept}-step-{step:D6}.png"));
        var image = result.Images[0];
        PngWriter.Save(path, image.Image, image.Parameters);
        return path;
    }
}
