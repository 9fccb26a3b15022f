namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The group shape of a CPU accelerator. ILGPU simulates every GPU thread with an OS thread, so portable
/// (one-thread-per-output) kernels run fastest on a narrow device, while explicitly grouped kernels need a
/// wide one that can hold their group.
/// </summary>
public enum CpuWidth
{
    /// <summary>2 threads per warp, 1 warp per group, 2 multiprocessors: the fastest shape for portable kernels.</summary>
    Narrow,

    /// <summary>32 threads per warp, 8 warps per group (256 threads), 1 multiprocessor: for explicitly grouped kernels.</summary>
    Wide,
}
