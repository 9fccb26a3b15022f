using System.Security.Cryptography;

namespace IlgpuDiffusion.Model.Images;

/// <summary>The model hashes written into generation parameters.</summary>
public static class ModelHash
{
    /// <summary>
    /// A1111's short model hash (<c>sd_models.CheckpointInfo.shorthash</c>): the first 10 lowercase hex digits of the
    /// SHA-256 of the whole file, streamed, so a multi-gigabyte checkpoint is never held in memory.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static string A1111(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 20, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream))[..10];
    }
}
