namespace IlgpuDiffusion.Kernels;

/// <summary>
/// One implementation of an op for arguments <typeparamref name="TArgs"/>: its tier, the shapes it handles, and
/// how to launch it. An op's launcher validates the arguments once, then hands them to its <see cref="OpDispatcher{TArgs}"/>.
/// </summary>
public sealed record KernelVariant<TArgs>(
    string Name,
    KernelTier Tier,
    Func<Device, TArgs, bool> Supports,
    Action<Device, TArgs> Launch);
