using System.CommandLine;
using System.Globalization;
using IlgpuDiffusion.CLora.Interop;
using IlgpuDiffusion.CLora.Library;

namespace IlgpuDiffusion.Cli.Commands;

/// <summary>
/// <c>export --library LIB --format kohya|diffusers --output FILE [--rank R]</c>: writes a concept library as one LoRA
/// file plus one textual-inversion file per concept beside it (<see cref="LibraryExport"/>), and prints what it wrote:
/// the layers and rank, the embedding files, and for a truncated-SVD export the relative error per layer and overall.
/// </summary>
internal static class ExportCommand
{
    private static readonly Dictionary<string, LibraryExportFormat> Formats = new(StringComparer.Ordinal)
    {
        ["kohya"] = LibraryExportFormat.Kohya,
        ["diffusers"] = LibraryExportFormat.Diffusers,
    };

    public static Command Create()
    {
        var library = new Option<string>("--library") { HelpName = "DIR", Description = "The concept library folder.", Required = true };
        var format = new Option<string>("--format")
        {
            Description = "LoRA naming: kohya (A1111, ComfyUI; with .alpha and ss_* metadata) or diffusers (load_lora_weights).",
            DefaultValueFactory = _ => "kohya",
        };
        format.AcceptOnlyFromAmong([.. Formats.Keys]);
        var output = new Option<string>("--output")
        {
            HelpName = "FILE",
            Description = "The LoRA .safetensors file to write; each concept's embedding is written beside it as <name>.safetensors.",
            Required = true,
        };
        var rank = new Option<int?>("--rank")
        {
            HelpName = "R",
            Description = "Factor each layer's summed delta by truncated SVD at rank R (required for kv-finetune libraries; " +
                          "without it a c-lora or lora library is exported exactly, at the sum of the task ranks).",
        };
        var command = new Command("export", "Export a concept library as one LoRA file plus a textual-inversion embedding per concept.")
        {
            library, format, output, rank,
        };
        command.SetAction(parse =>
        {
            var opened = ConceptLibrary.Open(parse.GetValue(library)!);
            var formatName = parse.GetValue(format)!;
            Print(opened, formatName, LibraryExport.Export(opened, parse.GetValue(output)!, Formats[formatName], parse.GetValue(rank)));
            return 0;
        });
        return command;
    }

    private static void Print(ConceptLibrary library, string format, LibraryExportResult result)
    {
        if (result.LoraPath is null)
            Console.WriteLine($"{library.Folder} is a token-only library: it has no weight deltas, so no LoRA file was written; embeddings only.");
        else
        {
            var ranks = result.Layers.Select(l => l.Rank).Distinct().Order().ToList();
            var rankText = ranks.Count == 1 ? $"rank {ranks[0]}" : $"ranks {ranks[0]} to {ranks[^1]}";
            var how = result.RelativeError is null
                ? $"tasks {string.Join(" + ", library.Concepts.Select(c => c.Record.Rank))} concatenated, exact"
                : "truncated SVD";
            Console.WriteLine(Invariant($"wrote {result.LoraPath}: {format} LoRA, {result.Layers.Count} layers, {rankText} ({how}), {library.Settings.Method.Name()}"));
            if (result.RelativeError is { } overall)
            {
                int width = result.Layers.Max(l => l.ModuleName.Length);
                foreach (var layer in result.Layers)
                    Console.WriteLine(Invariant($"  {layer.ModuleName.PadRight(width)}  rank {layer.Rank}  relative error {layer.RelativeError:E3}"));
                Console.WriteLine(Invariant($"relative Frobenius reconstruction error, all layers: {overall:E3}"));
            }
        }
        foreach (var embedding in result.Embeddings) Console.WriteLine($"wrote {embedding.Path}: embedding of {embedding.Token}");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
