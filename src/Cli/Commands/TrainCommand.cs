using System.CommandLine;
using System.Globalization;
using IlgpuDiffusion.Cli.Train;
using IlgpuDiffusion.CLora.Training;

namespace IlgpuDiffusion.Cli.Commands;

/// <summary>
/// <c>train --model M --library LIB --concept NAME --images DIR [options]</c>: learns one concept into a concept library
/// through <see cref="ConceptTeacher.Learn"/> (create or open the library, restore its concepts, train, resume from the
/// latest checkpoint, save), with a progress bar on stderr and a summary: token, task, method, trained and stored
/// parameter counts, time and peak device memory.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var modelOptions = new ModelOptions();
        var options = new TrainOptions();
        var device = CommonOptions.Device();
        var command = new Command("train", "Learn a new concept into a concept library (C-LoRA continual customization, or a baseline method).");
        modelOptions.AddTo(command);
        options.AddTo(command);
        command.Options.Add(device);
        command.SetAction(parse =>
        {
            string library = parse.GetValue(options.Library)!;
            var method = parse.GetValue(options.Method) is { } name ? TrainingMethods.Parse(name) : ConceptTeacher.MethodOf(library) ?? TrainingMethod.CLora;
            var trainer = options.Trainer.Options(parse, method);
            var validation = options.Validation(parse);
            var lesson = options.Lesson(parse);
            using var opened = CommonOptions.OpenDevice(parse.GetValue(device));
            var bar = new TrainProgressBar(Console.Error, trainer.Steps);
            var learned = ConceptTeacher.Learn(modelOptions.Source(parse), opened, library, lesson, trainer,
                new LearningRun { Progress = bar.Report, Log = bar.Note, Validation = validation });
            var concept = learned.Concept;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"learned {concept.Token} (id {concept.TokenId}) as task {concept.Task + 1} of {Path.GetFullPath(library)}: {learned.Method.Name()}, " +
                $"λ {learned.Lambda:G3}, {trainer.Steps} steps{(learned.ResumedFromStep is { } from ? $" (resumed at {from})" : "")}, " +
                $"{learned.TrainedParameters:N0} trained parameters, {learned.StoredParameters:N0} stored, {learned.WallTime.TotalSeconds:F1} s, " +
                $"peak device memory {learned.PeakDeviceBytes / (1024.0 * 1024.0):F1} MiB"));
            return 0;
        });
        return command;
    }
}
