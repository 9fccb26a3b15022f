namespace IlgpuDiffusion.Kernels;

/// <summary>The two kernel tiers (see DESIGN.md, "Kernels: two tiers, one language").</summary>
public enum KernelTier
{
    /// <summary>One thread per output, no shared memory, no barriers: correct everywhere, what the CPU accelerator runs.</summary>
    Portable,

    /// <summary>Shared-memory tiling, warp shuffles, tensor cores: picked on CUDA only.</summary>
    CudaTuned,
}
