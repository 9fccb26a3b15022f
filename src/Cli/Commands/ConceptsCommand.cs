using System.CommandLine;
using System.Globalization;
using IlgpuDiffusion.CLora.Library;

namespace IlgpuDiffusion.Cli.Commands;

/// <summary>
/// <c>concepts --library DIR</c>: prints a concept library's base model hash, method, λ, rank and layers, then one row
/// per concept in task order (name, token and id, class word, rank, steps, trained and stored parameter counts, when it
/// was created). Opening the library checks its files (see <see cref="ConceptLibrary.Open"/>).
/// </summary>
internal static class ConceptsCommand
{
    private static readonly string[] Header = ["task", "name", "token", "id", "class", "rank", "steps", "trained", "stored", "created (UTC)"];

    public static Command Create()
    {
        var library = new Option<string>("--library")
        {
            HelpName = "DIR",
            Description = "The concept library folder (library.json, library-NNNN.safetensors, checkpoints/).",
            Required = true,
        };
        var command = new Command("concepts", "List the concepts of a library in the order they were learned, with its method, λ and base model.") { library };
        command.SetAction(parse =>
        {
            Print(ConceptLibrary.Open(parse.GetValue(library)!));
            return 0;
        });
        return command;
    }

    private static void Print(ConceptLibrary library)
    {
        var settings = library.Settings;
        Console.WriteLine($"library     {library.Folder}");
        Console.WriteLine($"base model  {library.Model}");
        Console.WriteLine(Invariant($"method      {settings.Method.Name()}   lambda {settings.Lambda}   rank {settings.Rank}   target {settings.TargetPattern}"));
        Console.WriteLine(Invariant($"layers      {library.Layers.Count}   token width {library.TokenWidth}   concepts {library.Concepts.Count}"));
        Console.WriteLine();
        if (library.Concepts.Count == 0)
        {
            Console.WriteLine("(no concepts yet)");
            return;
        }
        string[][] rows = [Header, .. library.Concepts.Select(Row)];
        var widths = Enumerable.Range(0, Header.Length).Select(column => rows.Max(row => row[column].Length)).ToArray();
        foreach (var row in rows) Console.WriteLine(string.Join("  ", row.Select((cell, column) => cell.PadRight(widths[column]))).TrimEnd());
    }

    private static string[] Row(LibraryConcept concept)
    {
        var record = concept.Record;
        return
        [
            Invariant($"{concept.Task}"), record.Name, concept.Token, Invariant($"{concept.TokenId}"), record.ClassWord ?? "-",
            Invariant($"{record.Rank}"), Invariant($"{record.Training.Steps}"), Invariant($"{record.TrainedParameters:N0}"),
            Invariant($"{concept.StoredParameters:N0}"), Invariant($"{record.Created.UtcDateTime:yyyy-MM-dd HH:mm}"),
        ];
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
