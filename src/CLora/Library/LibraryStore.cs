namespace IlgpuDiffusion.CLora.Library;

/// <summary>The points of <see cref="LibraryStore.Commit"/> after which a fault hook can simulate a crash.</summary>
internal enum CommitStage
{
    /// <summary>The new <c>library-NNNN.safetensors</c> is complete; <c>library.json</c> still names the previous one.</summary>
    TensorsWritten,

    /// <summary>The new manifest is complete in <c>library.json.tmp</c>; <c>library.json</c> is unchanged.</summary>
    ManifestStaged,

    /// <summary><c>library.json</c> names the new version; the previous tensors file is not yet deleted.</summary>
    ManifestCommitted,
}

/// <summary>
/// Reads a library folder and saves new versions of it so that a kill at any moment leaves either the previous or
/// the new version, whole. <c>library.json</c> is the single commit point; it names the current tensors file and
/// that file's SHA-256. A save (1) writes the new version's tensors to a new name, <c>library-{v+1}.safetensors</c>
/// (through a temporary file, flushed, renamed), never touching the file the current manifest names; (2) writes the
/// new manifest to <c>library.json.tmp</c> and flushes it; (3) renames it over <c>library.json</c> (atomic) and
/// flushes the folder; (4) deletes what no version needs any more (older tensors files, leftovers of interrupted
/// saves). Before (3) the old manifest and its file are intact; after it, the new ones are; (4) is only tidying, and
/// the next save redoes it. Saves hold <c>library.lock</c> and refuse to run when another process changed the library
/// since it was read, so two writers cannot lose each other's tasks. A reader checks the SHA-256, so a tensors file
/// that was modified or truncated outside this protocol is reported, not used.
/// </summary>
internal static class LibraryStore
{
    private const string LockFile = "library.lock";
    private const int ReadAttempts = 3;

    /// <summary>Reads the current version: the manifest, then its tensors file, checked against the manifest's hash and shapes.</summary>
    public static (LibraryManifest Manifest, Dictionary<string, float[]> Tensors) Read(string folder)
    {
        for (int attempt = 1; ; attempt++)
        {
            var manifest = ReadManifest(folder);
            var path = Path.Combine(folder, manifest.Tensors.File);
            try
            {
                var hash = Sha256Files.Of([path]);
                if (hash != manifest.Tensors.Sha256)
                    throw new ConceptLibraryException(path,
                        $"its SHA-256 is {hash} but {LibraryFiles.Manifest} expects {manifest.Tensors.Sha256}: the file was modified or only partly " +
                        "written outside the library's atomic saves. Restore the folder from a backup; the library cannot be trusted as it is.");
                return (manifest, LibraryTensors.Load(path, manifest));
            }
            catch (FileNotFoundException e)
            {
                // A writer may have committed a newer version and deleted this file meanwhile: then read the newer one.
                if (attempt < ReadAttempts && ReadManifest(folder).Tensors.File != manifest.Tensors.File) continue;
                throw new ConceptLibraryException(path, $"{LibraryFiles.Manifest} names this tensors file, but it does not exist.", e);
            }
        }
    }

    /// <summary>Reads and validates <c>library.json</c>.</summary>
    public static LibraryManifest ReadManifest(string folder)
    {
        var path = Path.Combine(folder, LibraryFiles.Manifest);
        if (!Directory.Exists(folder)) throw new ConceptLibraryException(folder, "no such folder.");
        if (!File.Exists(path)) throw new ConceptLibraryException(folder, $"not a concept library: it has no {LibraryFiles.Manifest}.");
        return LibraryManifest.Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>
    /// Saves a new version (see the class summary). <paramref name="pending"/> names the new tensors file; its hash is
    /// filled in here. <paramref name="current"/> is the tensors file the caller read, or null when creating the library
    /// (then no manifest may exist yet). Returns the manifest as committed.
    /// </summary>
    public static LibraryManifest Commit(string folder, string? current, LibraryManifest pending, IReadOnlyDictionary<string, float[]> tensors,
        Action<CommitStage>? faultHook)
    {
        using var writeLock = Lock(folder);
        CheckUnchanged(folder, current);
        var path = Path.Combine(folder, pending.Tensors.File);
        LibraryTensors.Save(path, pending, tensors);
        DirectorySync.Flush(folder);
        var manifest = pending with { Tensors = pending.Tensors with { Sha256 = Sha256Files.Of([path]) } };
        faultHook?.Invoke(CommitStage.TensorsWritten);

        var staged = Path.Combine(folder, LibraryFiles.StagedManifest);
        using (var stream = new FileStream(staged, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(manifest.ToJson());
            stream.Flush(flushToDisk: true);
        }
        faultHook?.Invoke(CommitStage.ManifestStaged);

        File.Move(staged, Path.Combine(folder, LibraryFiles.Manifest), overwrite: true);
        DirectorySync.Flush(folder);
        faultHook?.Invoke(CommitStage.ManifestCommitted);

        foreach (var stale in LibraryFiles.Stale(folder, manifest.Tensors.File)) DeleteQuietly(stale);
        return manifest;
    }

    private static FileStream Lock(string folder)
    {
        var path = Path.Combine(folder, LockFile);
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new ConceptLibraryException(path, "another process is saving to this library; wait for it to finish.", e);
        }
    }

    private static void CheckUnchanged(string folder, string? current)
    {
        var onDisk = File.Exists(Path.Combine(folder, LibraryFiles.Manifest)) ? ReadManifest(folder).Tensors.File : null;
        if (onDisk == current) return;
        throw new ConceptLibraryException(folder, current is null
            ? $"a library already exists here ({LibraryFiles.Manifest}); open it instead of creating one."
            : $"another process saved a new version ({onDisk}) since this library was opened at {current}; reopen it and add the task again.");
    }

    /// <summary>Tidying only: a file that cannot be deleted now (say, still mapped by a reader on Windows) goes at the next save.</summary>
    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
