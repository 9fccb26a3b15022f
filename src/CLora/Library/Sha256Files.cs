using System.Security.Cryptography;

namespace IlgpuDiffusion.CLora.Library;

/// <summary>SHA-256 of files read one after another, streamed in 1 MiB chunks so a multi-gigabyte model is never held in memory.</summary>
internal static class Sha256Files
{
    private const int ChunkBytes = 1 << 20;

    /// <summary>The lowercase hex digest of the concatenated contents of <paramref name="paths"/>.</summary>
    public static string Of(IEnumerable<string> paths)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[ChunkBytes];
        foreach (var path in paths)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, ChunkBytes, FileOptions.SequentialScan);
            for (int read; (read = stream.Read(buffer)) > 0;) hash.AppendData(buffer, 0, read);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>True when <paramref name="digest"/> is 64 lowercase hex digits.</summary>
    public static bool IsDigest(string? digest) => digest is { Length: 64 } && digest.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');
}
