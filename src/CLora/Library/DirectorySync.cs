using System.Runtime.InteropServices;

namespace IlgpuDiffusion.CLora.Library;

/// <summary>
/// Flushes a folder's entries (creations and renames) to disk, so that after a power loss a renamed file is found
/// under its new name, in the order the renames were made. A process kill needs no flush: the kernel keeps the renames.
/// On Windows, NTFS journals renames and a folder cannot be opened for flushing, so this does nothing there.
/// </summary>
internal static partial class DirectorySync
{
    private const int ReadOnly = 0;
    private const int InvalidArgument = 22; // EINVAL: the file system cannot flush folders; there is nothing more to do

    public static void Flush(string folder)
    {
        if (OperatingSystem.IsWindows()) return;
        int descriptor = Open(folder, ReadOnly);
        if (descriptor < 0) throw new IOException($"'{folder}': cannot open the folder to flush it (errno {Marshal.GetLastPInvokeError()}).");
        try
        {
            if (Fsync(descriptor) != 0 && Marshal.GetLastPInvokeError() is var error && error != InvalidArgument)
                throw new IOException($"'{folder}': flushing the folder to disk failed (errno {error}).");
        }
        finally
        {
            _ = Close(descriptor);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int descriptor);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int descriptor);
}
