using System.Runtime.CompilerServices;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The launcher of one explicitly grouped kernel instantiation, loaded once per accelerator. On CUDA, a kernel that
/// asks for more dynamic shared memory than the default per-group limit (48 KB, which ILGPU 1.5.3 never raises) gets
/// its limit raised when it is loaded (<see cref="CudaFunctionAttributes"/>).
/// </summary>
/// <param name="load">Loads the kernel, e.g. <c>accelerator.LoadKernel&lt;…&gt;(SomeKernel)</c>.</param>
/// <param name="dynamicSharedBytes">The dynamic shared memory every launch of it requests.</param>
internal sealed class GroupedKernel<TLauncher>(Func<Accelerator, TLauncher> load, int dynamicSharedBytes)
    where TLauncher : Delegate
{
    private readonly ConditionalWeakTable<Accelerator, TLauncher> loaded = new();

    /// <summary>The launcher on <paramref name="accelerator"/>, loading it on first use.</summary>
    public TLauncher On(Accelerator accelerator) => loaded.GetValue(accelerator, Load);

    private TLauncher Load(Accelerator accelerator)
    {
        var launcher = load(accelerator);
        if (accelerator.AcceleratorType == AcceleratorType.Cuda && dynamicSharedBytes > accelerator.MaxSharedMemoryPerGroup)
            CudaFunctionAttributes.SetMaxDynamicSharedMemory(launcher.GetKernel(), dynamicSharedBytes);
        return launcher;
    }
}
