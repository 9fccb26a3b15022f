using System.Runtime.InteropServices;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The CUDA driver's view of a GPU's memory (<c>cuMemGetInfo_v2</c>): what every context and process holds, which
/// includes the CUDA context, loaded kernels and what the caching allocator reserved (<see cref="DeviceMemory"/>
/// counts only the last). Only meaningful on a CUDA device.
/// </summary>
public static partial class DriverMemory
{
    /// <summary>Bytes in use on <paramref name="device"/>'s GPU (total − free), or null on the CPU accelerator.</summary>
    /// <exception cref="InvalidOperationException">The driver call failed.</exception>
    public static long? UsedBytes(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.Kind != DeviceKind.Cuda) return null;
        using var binding = device.Accelerator.BindScoped();
        nuint free = 0, total = 0;
        int status = cuMemGetInfo_v2(ref free, ref total);
        if (status != 0) throw new InvalidOperationException($"cuMemGetInfo failed with CUDA error {status} on {device.Name}.");
        return (long)(total - free);
    }

    // The library name "cuda" is resolved to the driver by CudaLibraryResolver, registered when a CUDA device is opened.
    [LibraryImport("cuda")]
    private static partial int cuMemGetInfo_v2(ref nuint free, ref nuint total);
}
