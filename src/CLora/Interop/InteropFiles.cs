using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.SafeTensors;

namespace IlgpuDiffusion.CLora.Interop;

/// <summary>Opens LoRA and embedding files as safetensors, refusing PyTorch pickles (loading them runs code).</summary>
internal static class InteropFiles
{
    /// <summary>
    /// Opens <paramref name="path"/>; a pickle (by extension, or by content when the file does not parse) is refused
    /// with a message saying how to convert it, where <paramref name="conversion"/> is the Python that does.
    /// </summary>
    public static SafeTensorsReader Open(string path, string kind, string conversion)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath)) throw new InteropFileException(fullPath, $"no such {kind} file.");
        if (PickleGuard.HasPickleExtension(fullPath)) throw PickleRefusal(fullPath, kind, conversion);
        try
        {
            return SafeTensorsReader.Open(fullPath);
        }
        catch (SafeTensorsFormatException e) when (PickleGuard.StartsLikePickle(fullPath))
        {
            throw PickleRefusal(fullPath, kind, conversion, e);
        }
    }

    private static InteropFileException PickleRefusal(string path, string kind, string conversion, Exception? inner = null) => new(path,
        $"this {kind} is a PyTorch pickle (.pt/.bin/.ckpt), which this engine refuses to load: unpickling can run arbitrary code. " +
        $"Convert it to safetensors once, in Python: `{conversion}`.", inner);
}
