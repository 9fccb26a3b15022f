namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Which tier a device may use. The CPU accelerator always runs the portable tier (a barrier costs about 1 ms
/// there); <c>IDF_KERNELS=portable</c> forces the portable tier everywhere, for comparisons.
/// </summary>
public static class KernelPolicy
{
    /// <summary>The environment variable that forces the portable tier.</summary>
    public const string EnvironmentVariable = "IDF_KERNELS";

    /// <summary>True when <c>IDF_KERNELS=portable</c>.</summary>
    public static bool ForcePortable =>
        string.Equals(Environment.GetEnvironmentVariable(EnvironmentVariable), "portable", StringComparison.OrdinalIgnoreCase);

    /// <summary>The highest tier <paramref name="device"/> may run.</summary>
    public static KernelTier MaxTier(Device device) =>
        device.IsCpu || ForcePortable ? KernelTier.Portable : KernelTier.CudaTuned;
}
