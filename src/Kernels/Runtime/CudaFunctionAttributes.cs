using System.Runtime.InteropServices;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// <c>cuFuncSetAttribute</c>, which ILGPU 1.5.3 does not expose: CUDA launches a kernel with at most 48 KB of dynamic
/// shared memory per block unless the kernel's function opts in to more (up to 227 KB on an H100), and ILGPU reports
/// that 48 KB as <c>MaxSharedMemoryPerGroup</c>. Used by <see cref="GroupedKernel{TLauncher}"/> on CUDA only.
/// </summary>
internal static partial class CudaFunctionAttributes
{
    /// <summary><c>CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES</c> in cuda.h's CUfunction_attribute.</summary>
    private const int MaxDynamicSharedSizeBytes = 8;

    /// <summary>Lets every launch of <paramref name="kernel"/> (a CUDA kernel) request up to <paramref name="bytes"/> of dynamic shared memory.</summary>
    /// <exception cref="InvalidOperationException">The driver refused (e.g. more than the device allows).</exception>
    public static void SetMaxDynamicSharedMemory(Kernel kernel, int bytes)
    {
        using var binding = kernel.Accelerator.BindScoped();
        int status = cuFuncSetAttribute(((CudaKernel)kernel).FunctionPtr, MaxDynamicSharedSizeBytes, bytes);
        if (status != 0)
            throw new InvalidOperationException(
                $"cuFuncSetAttribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, {bytes}) failed with CUDA error {status} " +
                $"on {kernel.Accelerator.Name}.");
    }

    // ILGPU's own imports use the library name "cuda" too; CudaLibraryResolver maps it to the driver for this assembly.
    [LibraryImport("cuda")]
    private static partial int cuFuncSetAttribute(IntPtr function, int attribute, int value);
}
