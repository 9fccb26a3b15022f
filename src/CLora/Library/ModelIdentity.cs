using IlgpuDiffusion.Model.Loading;

namespace IlgpuDiffusion.CLora.Library;

/// <summary>
/// The base model a concept library belongs to: <see cref="Sha256"/> is the SHA-256 of the model's weight files read
/// one after another in a fixed order (<c>unet/</c>, <c>vae/</c>, <c>text_encoder/</c> for a diffusers folder; for a
/// single-file checkpoint, the file alone, so the identity is that file's ordinary SHA-256). <see cref="Files"/> names
/// those files (relative to the model folder, or the file name) for messages. Two identities are equal when their
/// hashes are: a renamed file is the same model, while a diffusers folder and a single-file conversion of it, or the
/// fp16 and fp32 variants, are different models.
/// </summary>
public sealed record ModelIdentity(string Sha256, IReadOnlyList<string> Files)
{
    /// <summary>
    /// Hashes the weight files of <paramref name="modelPath"/> (a diffusers folder or a single <c>.safetensors</c>),
    /// picked as <see cref="CheckpointLoader.WeightFiles"/> picks them. The files are streamed, never held in memory.
    /// </summary>
    public static ModelIdentity Compute(string modelPath)
    {
        var fullPath = Path.GetFullPath(modelPath);
        var files = CheckpointLoader.WeightFiles(fullPath);
        var names = Directory.Exists(fullPath)
            ? files.Select(f => Path.GetRelativePath(fullPath, f).Replace(Path.DirectorySeparatorChar, '/'))
            : files.Select(Path.GetFileName);
        return new ModelIdentity(Sha256Files.Of(files), [.. names.OfType<string>()]);
    }

    public bool Equals(ModelIdentity? other) => other is not null && Sha256 == other.Sha256;

    public override int GetHashCode() => Sha256.GetHashCode(StringComparison.Ordinal);

    /// <summary>The hash and the files, as error messages and the <c>concepts</c> command show them.</summary>
    public override string ToString() => $"sha256 {Sha256} ({string.Join(" + ", Files)})";
}
