using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// One accelerator the engine runs on: an ILGPU context, the accelerator and its default stream, the caching
/// allocator (<see cref="Memory"/>) and the kernels loaded on it. CUDA is chosen when a GPU is present, otherwise
/// ILGPU's CPU accelerator, which is a correctness oracle for tiny models and tests, not a way to run SD1.5.
/// </summary>
public sealed class Device : IDisposable
{
    private readonly Context context;

    private Device(Context context, Accelerator accelerator, DeviceKind kind, CpuWidth? cpuWidth)
    {
        this.context = context;
        Accelerator = accelerator;
        Kind = kind;
        CpuWidth = cpuWidth;
        Memory = new DeviceMemory(accelerator);
    }

    /// <summary>The ILGPU accelerator. Kernel launchers use it; app code rarely needs to.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>Whether this is a CUDA GPU or the CPU accelerator.</summary>
    public DeviceKind Kind { get; }

    /// <summary>The group shape of a CPU device; null on CUDA.</summary>
    public CpuWidth? CpuWidth { get; }

    /// <summary>The caching allocator behind every tensor of this device, with live and peak byte counters.</summary>
    public DeviceMemory Memory { get; }

    /// <summary>The accelerator's name as the driver reports it.</summary>
    public string Name => Accelerator.Name;

    /// <summary>True on ILGPU's CPU accelerator.</summary>
    public bool IsCpu => Kind == DeviceKind.Cpu;

    /// <summary>
    /// Opens the device named by <paramref name="spec"/>; with <see cref="DeviceSpec.Auto"/> (the default) the
    /// <c>IDF_DEVICE</c> environment variable decides, and without it the first CUDA GPU or else the CPU.
    /// </summary>
    /// <exception cref="ArgumentException">A CUDA device was asked for that does not exist.</exception>
    public static Device Open(DeviceSpec? spec = null)
    {
        var chosen = spec ?? DeviceSpec.FromEnvironment();
        if (chosen.Kind is null && spec is not null) chosen = DeviceSpec.FromEnvironment();
        if (chosen.Kind == DeviceKind.Cpu) return OpenCpu();
        CudaLibraryResolver.Register();
        var ctx = Context.Create(b => b.Cuda().Optimize(OptimizationLevel.O2).EnableAlgorithms());
        var cudaDevices = ctx.GetCudaDevices();
        if (chosen.Kind is null && cudaDevices.Count == 0)
        {
            ctx.Dispose();
            return OpenCpu();
        }
        if (chosen.Index >= cudaDevices.Count)
        {
            ctx.Dispose();
            throw new ArgumentException(
                $"device cuda:{chosen.Index} does not exist: {cudaDevices.Count} CUDA device(s) found " +
                "(run the 'devices' command to list them, or use --device cpu).");
        }
        var accelerator = cudaDevices[chosen.Index].CreateAccelerator(ctx);
        return new Device(ctx, accelerator, DeviceKind.Cuda, null);
    }

    /// <summary>Opens ILGPU's CPU accelerator with the given group shape.</summary>
    public static Device OpenCpu(CpuWidth width = Kernels.CpuWidth.Narrow)
    {
        var shape = width == Kernels.CpuWidth.Narrow ? new CPUDevice(2, 1, 2) : new CPUDevice(32, 8, 1);
        var ctx = Context.Create(b => b.CPU(shape).Optimize(OptimizationLevel.O2).EnableAlgorithms());
        var accelerator = ctx.CreateCPUAccelerator(0);
        return new Device(ctx, accelerator, DeviceKind.Cpu, width);
    }

    /// <summary>Every device this host offers, CUDA GPUs first, and which one <see cref="Open"/> picks by default.</summary>
    public static IReadOnlyList<DeviceInfo> List()
    {
        CudaLibraryResolver.Register();
        var found = new List<DeviceInfo>();
        using (var ctx = Context.Create(b => b.Cuda()))
        {
            var cuda = ctx.GetCudaDevices();
            for (int i = 0; i < cuda.Count; i++)
            {
                var d = cuda[i];
                found.Add(new DeviceInfo($"cuda:{i}", DeviceKind.Cuda, d.Name, d.MemorySize, d.WarpSize,
                    d.MaxNumThreadsPerGroup, d.Architecture is { } arch ? $"sm_{arch.Major}{arch.Minor}" : null, false));
            }
        }
        using (var cpu = OpenCpu())
        {
            var a = cpu.Accelerator;
            // The CPU accelerator reports an unbounded size; host memory is what it really has.
            found.Add(new DeviceInfo("cpu", DeviceKind.Cpu, $"ILGPU CPU accelerator ({Environment.ProcessorCount} cores)",
                GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, a.WarpSize, a.MaxNumThreadsPerGroup, null, false));
        }
        var spec = DeviceSpec.FromEnvironment();
        int defaultIndex = spec.Kind switch
        {
            DeviceKind.Cpu => found.Count - 1,
            DeviceKind.Cuda => found.FindIndex(d => d.Id == $"cuda:{spec.Index}"),
            _ => 0,
        };
        if (defaultIndex >= 0) found[defaultIndex] = found[defaultIndex] with { IsDefault = true };
        return found;
    }

    /// <summary>Waits until every kernel and copy queued on the device has finished.</summary>
    public void Synchronize() => Accelerator.Synchronize();

    /// <summary>The stream kernels are queued on.</summary>
    public AcceleratorStream Stream => Accelerator.DefaultStream;

    public override string ToString() => $"{Kind} '{Name}'";

    public void Dispose()
    {
        Memory.Dispose();
        Accelerator.Dispose();
        context.Dispose();
    }
}

/// <summary>What <see cref="Device.List"/> reports about one device.</summary>
public sealed record DeviceInfo(
    string Id, DeviceKind Kind, string Name, long MemoryBytes, int WarpSize, int MaxThreadsPerGroup,
    string? Architecture, bool IsDefault);
