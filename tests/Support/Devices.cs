using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Tests.Support;

/// <summary>
/// Devices shared by the whole test run (opening one costs a context and warm-up): the narrow CPU device for
/// portable kernels and a wide one for explicitly grouped kernels. <c>IDF_DEVICE=cuda</c> runs the portable
/// tests on a GPU instead.
/// </summary>
public static class Devices
{
    private static readonly Lazy<Device> portable = new(() => Device.Open());
    private static readonly Lazy<Device> wide = new(() => Device.OpenCpu(CpuWidth.Wide));

    /// <summary>The device portable-kernel tests run on (the narrow CPU accelerator unless IDF_DEVICE says otherwise).</summary>
    public static Device Portable => portable.Value;

    /// <summary>A CPU accelerator with 256-thread groups, for tests of explicitly grouped kernels.</summary>
    public static Device WideCpu => wide.Value;
}
