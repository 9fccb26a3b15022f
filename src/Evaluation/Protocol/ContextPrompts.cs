using System.Text.Json;

namespace IlgpuDiffusion.Evaluation.Protocol;

/// <summary>
/// Context prompts with a <c>{}</c> slot for the concept: generation fills it with the concept token, CLIP-T scoring
/// with the class word. Built-in lists follow Custom Diffusion's / DreamBooth's evaluation prompts, one for people
/// and one for objects, animals and places (chosen by the class word); a file can replace them.
/// </summary>
public static class ContextPrompts
{
    /// <summary>Class words that select the people list.</summary>
    public static IReadOnlySet<string> PeopleClasses { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "person", "people", "man", "woman", "boy", "girl", "child", "kid", "baby", "face", "guy", "lady", "gentleman", "human", "actor", "actress",
    };

    public static IReadOnlyList<string> People { get; } =
    [
        "a photo of {} smiling",
        "a painting of {} in the style of Vincent van Gogh",
        "{} wearing a red hat",
        "a photo of {} on the beach",
        "a pencil sketch of {}",
        "{} in a chef outfit",
        "a photo of {} in front of the Eiffel Tower",
        "an oil painting portrait of {}",
    ];

    public static IReadOnlyList<string> Objects { get; } =
    [
        "a photo of {} in the jungle",
        "a photo of {} on the beach",
        "a watercolor painting of {}",
        "a photo of {} with a city in the background",
        "{} on top of a wooden floor",
        "a photo of {} in the snow",
        "a pencil sketch of {}",
        "a photo of {} at night",
    ];

    /// <summary>The built-in list for <paramref name="classWord"/>.</summary>
    public static IReadOnlyList<string> For(string classWord) => PeopleClasses.Contains(classWord) ? People : Objects;

    /// <summary>Fills the slot of <paramref name="template"/>.</summary>
    public static string Fill(string template, string text) => template.Replace("{}", text, StringComparison.Ordinal);

    /// <summary>Reads a prompt list: a JSON array of strings, or a text file with one prompt a line; each must hold <c>{}</c>.</summary>
    public static IReadOnlyList<string> Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"context prompts file '{path}' does not exist.", path);
        string text = File.ReadAllText(path);
        List<string> prompts;
        if (text.TrimStart().StartsWith('['))
        {
            try
            {
                prompts = JsonSerializer.Deserialize<List<string>>(text) ?? [];
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"context prompts file '{path}' is not a JSON array of strings: {e.Message}", e);
            }
        }
        else
        {
            prompts = [.. text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0)];
        }
        if (prompts.Count == 0) throw new InvalidDataException($"context prompts file '{path}' holds no prompt.");
        var slotless = prompts.FindIndex(p => p is null || !p.Contains("{}", StringComparison.Ordinal));
        if (slotless >= 0) throw new InvalidDataException($"context prompts file '{path}': prompt {slotless} has no {{}} slot for the concept.");
        return prompts;
    }
}
