using System.Globalization;
using System.Text.RegularExpressions;

namespace IlgpuDiffusion.CLora.Library;

/// <summary>
/// The names of a library folder's files: <c>library.json</c> (the manifest, the single commit point),
/// <c>library-NNNN.safetensors</c> (one per saved version; the manifest names the current one), the staged manifest
/// <c>library.json.tmp</c>, and <c>checkpoints/</c>.
/// </summary>
internal static partial class LibraryFiles
{
    public const string Manifest = "library.json";
    public const string StagedManifest = "library.json.tmp";
    public const string Checkpoints = "checkpoints";

    /// <summary>The tensors file of a version: <c>library-0003.safetensors</c> (at least four digits).</summary>
    public static string Tensors(int version) => string.Create(CultureInfo.InvariantCulture, $"library-{version:D4}.safetensors");

    public static bool IsTensorsFile(string name) => TensorsPattern().IsMatch(name);

    /// <summary>The version number in a <see cref="Tensors"/> file name.</summary>
    public static int VersionOf(string name) => int.Parse(TensorsPattern().Match(name).Groups[1].Value, CultureInfo.InvariantCulture);

    /// <summary>
    /// Files in <paramref name="folder"/> that no committed version needs: tensors files other than
    /// <paramref name="current"/>, a staged manifest, and the temporary files of interrupted safetensors writes.
    /// </summary>
    public static IEnumerable<string> Stale(string folder, string current) => Directory.EnumerateFiles(folder)
        .Where(path => Path.GetFileName(path) is var name
                       && ((IsTensorsFile(name) && name != current) || name == StagedManifest || WriterTempPattern().IsMatch(name)));

    [GeneratedRegex(@"^library-([0-9]{4,9})\.safetensors$", RegexOptions.CultureInvariant)]
    private static partial Regex TensorsPattern();

    /// <summary>What <c>SafeTensorsWriter.Save</c> names its temporary file: <c>.{name}.{guid}.tmp</c>.</summary>
    [GeneratedRegex(@"^\.library-[0-9]{4,9}\.safetensors\.[0-9a-f]{32}\.tmp$", RegexOptions.CultureInvariant)]
    private static partial Regex WriterTempPattern();
}
