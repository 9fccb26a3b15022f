using System.CommandLine;
using IlgpuDiffusion.CLora.Training;

namespace IlgpuDiffusion.Cli.Train;

/// <summary>
/// The options of <c>train</c> that make up a <see cref="ConceptLesson"/>, <see cref="TrainerOptions"/> (through
/// <see cref="TrainerOptionSet"/>) and <see cref="ValidationSettings"/>; an out-of-range value is reported with the option's name.
/// </summary>
internal sealed class TrainOptions
{
    /// <summary>The trainer's settings (<c>--steps</c>, <c>--rank</c>, <c>--lr</c>, …).</summary>
    public TrainerOptionSet Trainer { get; } = new();

    public Option<string> Library { get; } = new("--library") { HelpName = "DIR", Description = "The concept library folder (created if it holds none).", Required = true };

    public Option<string> Concept { get; } = new("--concept") { HelpName = "NAME", Description = "The new concept's name; its token is <NAME>.", Required = true };

    public Option<string> Images { get; } = new("--images")
    {
        HelpName = "DIR",
        Description = "A folder of the concept's PNG/JPEG images (a NAME.txt caption beside an image replaces the prompt templates for it).",
        Required = true,
    };

    public Option<string?> ClassWord { get; } = new("--class") { HelpName = "WORD", Description = "The concept's class word, recorded in the library." };

    public Option<string?> Method { get; } = new("--method")
    {
        Description = "c-lora, lora (λ = 0), kv-finetune (full K/V weights) or token-only (default: an existing library's method, else c-lora).",
    };

    public Option<string?> ClassImages { get; } = new("--class-images") { HelpName = "DIR", Description = "Generic class images for prior preservation (needs --class-prompt)." };

    public Option<string?> ClassPrompt { get; } = new("--class-prompt") { HelpName = "TEXT", Description = "The prompt of the class images, e.g. \"a photo of a dog\"." };

    public Option<int> ValidateEvery { get; } = new("--validate-every") { HelpName = "N", Description = "Write a validation image every N steps to LIB/validation/ (needs --validation-prompt)." };

    public Option<string?> ValidationPrompt { get; } = new("--validation-prompt") { HelpName = "TEXT", Description = "The validation prompt, naming the concept as <NAME>." };

    public Option<int> ValidationSteps { get; } = new("--validation-steps") { HelpName = "S", Description = "Sampling steps of a validation image.", DefaultValueFactory = _ => 25 };

    /// <summary>The options of <see cref="ValidationSettings"/>' properties, for error messages.</summary>
    private Dictionary<string, Option> ValidationOptionsByProperty => new(StringComparer.Ordinal)
    {
        [nameof(ValidationSettings.Every)] = ValidateEvery, [nameof(ValidationSettings.Prompt)] = ValidationPrompt,
        [nameof(ValidationSettings.Steps)] = ValidationSteps,
    };

    /// <summary>Adds every option to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        Method.AcceptOnlyFromAmong([.. TrainingMethods.Names]);
        foreach (Option option in new Option[] { Library, Concept, Images, ClassWord, Method }) command.Options.Add(option);
        Trainer.AddTo(command);
        foreach (Option option in new Option[] { ClassImages, ClassPrompt, ValidateEvery, ValidationPrompt, ValidationSteps })
            command.Options.Add(option);
    }

    /// <summary>The concept to learn.</summary>
    /// <exception cref="ArgumentException">Only one of the class images and the class prompt is given.</exception>
    public ConceptLesson Lesson(ParseResult parse)
    {
        var (classImages, classPrompt) = (parse.GetValue(ClassImages), parse.GetValue(ClassPrompt));
        if ((classImages is null) != (classPrompt is null))
            throw new ArgumentException(classImages is null
                ? $"{ClassPrompt.Name} needs {ClassImages.Name} DIR (prior preservation)."
                : $"{ClassImages.Name} needs {ClassPrompt.Name} TEXT (prior preservation).");
        return new ConceptLesson
        {
            Name = parse.GetValue(Concept)!,
            Images = parse.GetValue(Images)!,
            ClassWord = parse.GetValue(ClassWord),
            ClassImages = classImages,
            ClassPrompt = classPrompt,
        };
    }

    /// <summary>The validation settings, or null without <c>--validate-every</c>.</summary>
    /// <exception cref="ArgumentException">A value is out of range or the prompt is missing; the message names the option.</exception>
    public ValidationSettings? Validation(ParseResult parse)
    {
        int every = parse.GetValue(ValidateEvery);
        string? prompt = parse.GetValue(ValidationPrompt);
        if (every == 0 && prompt is null) return null;
        if (every == 0) throw new ArgumentException($"{ValidationPrompt.Name} needs {ValidateEvery.Name} N.");
        var settings = new ValidationSettings { Every = every, Prompt = prompt ?? "", Steps = parse.GetValue(ValidationSteps) };
        TrainerOptionSet.Named(settings.Validate, ValidationOptionsByProperty);
        return settings;
    }
}
