namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Which kernels a device may use. The CPU accelerator always runs the portable tier (a barrier costs about 1 ms
/// there); <c>IDF_KERNELS=portable</c> forces the portable tier everywhere, for comparisons. Tensor-core variants
/// (fp16 operands, fp32 accumulation; used only with F16 weights) are opt-in with <c>IDF_TENSOR_CORES=1</c> until a
/// GPU run has validated them, and even then each checks itself on first use (<see cref="SelfCheckedVariant{TArgs}"/>).
/// </summary>
public static class KernelPolicy
{
    /// <summary>The environment variable that forces the portable tier.</summary>
    public const string EnvironmentVariable = "IDF_KERNELS";

    /// <summary>The environment variable that enables tensor-core variants on CUDA (<c>IDF_TENSOR_CORES=1</c>).</summary>
    public const string TensorCoresVariable = "IDF_TENSOR_CORES";

    /// <summary>True when <c>IDF_KERNELS=portable</c>.</summary>
    public static bool ForcePortable =>
        string.Equals(Environment.GetEnvironmentVariable(EnvironmentVariable), "portable", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// True when <c>IDF_TENSOR_CORES=1</c>: tuned variants may then use tensor cores (inline-PTX <c>mma.sync</c>) for
    /// F16 weights. Off by default: the CPU accelerator cannot run inline PTX, so no test has run that path yet.
    /// </summary>
    public static bool TensorCores => Environment.GetEnvironmentVariable(TensorCoresVariable) == "1";

    /// <summary>The highest tier <paramref name="device"/> may run.</summary>
    public static KernelTier MaxTier(Device device) =>
        device.IsCpu || ForcePortable ? KernelTier.Portable : KernelTier.CudaTuned;
}
