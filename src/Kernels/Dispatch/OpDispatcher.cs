namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The seam between an op's launcher and its kernels: picks the first tuned variant that the device's tier allows
/// and that supports the arguments, else the portable variant. Tuned variants are added to an op's list without
/// touching any caller.
/// </summary>
public sealed class OpDispatcher<TArgs>
{
    private readonly KernelVariant<TArgs> portable;
    private readonly IReadOnlyList<KernelVariant<TArgs>> tuned;

    public OpDispatcher(KernelVariant<TArgs> portable, params KernelVariant<TArgs>[] tuned)
    {
        if (portable.Tier != KernelTier.Portable) throw new ArgumentException($"{portable.Name} is not a portable variant.");
        this.portable = portable;
        this.tuned = tuned;
    }

    /// <summary>The variant <see cref="Launch"/> would run for these arguments on this device.</summary>
    public KernelVariant<TArgs> Select(Device device, TArgs args) => Select(device, args, KernelPolicy.MaxTier(device));

    /// <summary>
    /// The variant for these arguments when the device may run up to <paramref name="maxTier"/>; tests pass
    /// <see cref="KernelTier.CudaTuned"/> to exercise a tuned variant's selection on the CPU accelerator.
    /// </summary>
    public KernelVariant<TArgs> Select(Device device, TArgs args, KernelTier maxTier)
    {
        if (maxTier == KernelTier.CudaTuned)
            foreach (var variant in tuned)
                if (variant.Supports(device, args)) return variant;
        return portable;
    }

    /// <summary>Launches the selected variant on <paramref name="device"/>'s stream.</summary>
    public void Launch(Device device, TArgs args) => Select(device, args).Launch(device, args);
}
