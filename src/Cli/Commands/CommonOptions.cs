using System.CommandLine;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Cli.Commands;

/// <summary>Options several commands share.</summary>
internal static class CommonOptions
{
    /// <summary><c>--device cpu|cuda[:N]|auto</c>; without it <c>IDF_DEVICE</c>, then the first GPU, then the CPU.</summary>
    public static Option<string?> Device() => new("--device")
    {
        Description = "Device to run on: cpu, cuda, cuda:N or auto (default: $IDF_DEVICE, else the first CUDA GPU, else the CPU).",
    };

    /// <summary>Opens the device an option names, explaining on stderr when the CPU accelerator is what runs.</summary>
    public static Device OpenDevice(string? option)
    {
        var spec = option is null ? DeviceSpec.FromEnvironment() : DeviceSpec.Parse(option);
        var device = Kernels.Device.Open(spec);
        if (device.IsCpu)
            Console.Error.WriteLine(
                "note: running on ILGPU's CPU accelerator, a correctness oracle for tiny models and tests; " +
                "a full-size SD1.5 model would take days here. Use a CUDA GPU (--device cuda) for real work.");
        return device;
    }
}
