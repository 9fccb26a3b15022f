using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Evaluation.Scoring;

/// <summary>The images (.png, .jpg, .jpeg) of a folder, not recursive, in ordinal file-name order.</summary>
public static class ImageFolder
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg"];

    /// <summary>The image files of <paramref name="folder"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static IReadOnlyList<string> Files(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"image folder '{folder}' does not exist.");
        return [.. Directory.EnumerateFiles(folder).Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)];
    }

    /// <summary>Reads the images of <paramref name="folder"/>; fewer than <paramref name="minimum"/> is an error naming the folder.</summary>
    public static IReadOnlyList<RgbImage> Read(string folder, int minimum)
    {
        var files = Files(folder);
        if (files.Count < minimum)
            throw new ArgumentException($"image folder '{folder}' holds {files.Count} image{(files.Count == 1 ? "" : "s")} (.png, .jpg, .jpeg); " +
                                        $"the metrics need at least {minimum}.");
        return [.. files.Select(f => ImageFile.Read(f))];
    }
}
