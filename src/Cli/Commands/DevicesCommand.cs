using System.CommandLine;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Cli.Commands;

/// <summary><c>devices</c>: lists the accelerators found and marks the default one.</summary>
internal static class DevicesCommand
{
    public static Command Create()
    {
        var command = new Command("devices", "List the devices found (name, memory, warp size, max threads per group) and the default one.");
        command.SetAction(_ =>
        {
            var devices = Device.List();
            Console.WriteLine($"{"",1} {"id",-8} {"name",-44} {"memory",10} {"warp",5} {"max threads/group",18} {"arch",6}");
            foreach (var d in devices)
                Console.WriteLine(
                    $"{(d.IsDefault ? "*" : " "),1} {d.Id,-8} {Truncate(d.Name, 44),-44} {FormatBytes(d.MemoryBytes),10} {d.WarpSize,5} " +
                    $"{d.MaxThreadsPerGroup,18} {d.Architecture ?? "-",6}");
            var chosen = devices.FirstOrDefault(d => d.IsDefault);
            Console.WriteLine(chosen is null
                ? $"{DeviceSpec.EnvironmentVariable} names a device that does not exist."
                : $"default: {chosen.Id} (* above; choose with --device or {DeviceSpec.EnvironmentVariable})");
            if (chosen?.Kind == DeviceKind.Cpu)
                Console.WriteLine("No CUDA GPU: the CPU accelerator runs tiny models and tests; it is not a way to run a full-size SD1.5.");
            return 0;
        });
        return command;
    }

    private static string Truncate(string s, int width) => s.Length <= width ? s : s[..(width - 1)] + "…";

    private static string FormatBytes(long bytes) => bytes >= 1L << 30
        ? $"{bytes / (double)(1L << 30):F1} GiB"
        : $"{bytes / (double)(1L << 20):F0} MiB";
}
