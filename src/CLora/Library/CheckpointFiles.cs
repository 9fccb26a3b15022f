using System.Globalization;

namespace IlgpuDiffusion.CLora.Library;

/// <summary>The trainer's checkpoints of one concept: <c>checkpoints/{concept}/step-NNNNNN.safetensors</c>.</summary>
internal static class CheckpointFiles
{
    public const string Prefix = "step-", Extension = ".safetensors";

    /// <summary>The checkpoint in <paramref name="folder"/> with the highest step, or null (also when the folder does not exist).</summary>
    public static CheckpointFile? Latest(string folder) => All(folder).MaxBy(c => c.Step);

    /// <summary>Every checkpoint in <paramref name="folder"/> (none when the folder does not exist).</summary>
    public static IEnumerable<CheckpointFile> All(string folder) => !Directory.Exists(folder)
        ? []
        : Directory.EnumerateFiles(folder, $"{Prefix}*{Extension}")
            .Select(path => int.TryParse(Path.GetFileName(path)[Prefix.Length..^Extension.Length], NumberStyles.None, CultureInfo.InvariantCulture, out int step)
                ? new CheckpointFile(step, path)
                : null)
            .OfType<CheckpointFile>();
}
