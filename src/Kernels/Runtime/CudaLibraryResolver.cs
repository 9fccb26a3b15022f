using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// ILGPU imports the CUDA driver as <c>cuda</c>, which .NET resolves to <c>libcuda.so</c>; many hosts ship only
/// <c>libcuda.so.1</c> (the development symlink comes with the toolkit). This resolver maps the name to the
/// versioned library so a driver-only host works. The engine's own driver imports (<see cref="CudaFunctionAttributes"/>)
/// use the same name and resolver.
/// </summary>
internal static class CudaLibraryResolver
{
    private static int registered;

    public static void Register()
    {
        if (Interlocked.Exchange(ref registered, 1) == 1) return;
        NativeLibrary.SetDllImportResolver(typeof(CudaLibraryResolver).Assembly, Resolve);
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // ILGPU registered its own resolver (it does so under WSL); that one already knows the driver's name.
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != "cuda") return IntPtr.Zero;
        foreach (var candidate in new[] { "libcuda.so", "libcuda.so.1", "nvcuda.dll" })
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle)) return handle;
        return IntPtr.Zero;
    }
}
