using System.Reflection;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Bench;

/// <summary>
/// The device all benchmarks run on, opened once per process (<see cref="Device.Open"/>, so <c>IDF_DEVICE</c> or
/// else the first CUDA GPU or else the CPU accelerator) and shared, so each kernel is compiled once per run. This
/// works because the benchmarks run in-process; <see cref="Program"/> closes it after the run.
/// </summary>
public static class BenchDevice
{
    private static readonly Lazy<Device> device = new(() => Device.Open());

    /// <summary>The shared device, opened on first use.</summary>
    public static Device Instance => device.Value;

    /// <summary>Whether <c>--short</c> was passed to <see cref="Program"/>.</summary>
    public static bool ShortRequested { get; set; }

    /// <summary>Short mode: small shapes and a short job. On with <c>--short</c> and always on the CPU accelerator.</summary>
    public static bool Short => ShortRequested || Instance.IsCpu;

    /// <summary>Disposes the device if it was opened.</summary>
    public static void Close()
    {
        if (device.IsValueCreated) device.Value.Dispose();
    }
}

/// <summary>
/// The base of every benchmark class; a subclass contains only its op's code. Its <see cref="Setup"/> picks a shape
/// with <see cref="Pick{T}"/> (SD1.5's in normal mode, a small one in short mode), allocates its operands with
/// <see cref="Random"/> and <see cref="Empty"/>, and describes each benchmark method's work with
/// <see cref="Record"/>; each benchmark method launches its op and ends with <see cref="Synchronize"/>, so the
/// measured time is the device's. After <see cref="Setup"/> every benchmark method runs once (kernel compilation
/// stays out of the measurement) and the peak-memory counter restarts; <see cref="Cleanup"/> records the device's
/// peak reserved bytes for the benchmark that ran and frees the operands. The columns of
/// <see cref="RooflineConfig"/> show the recorded workload beside the device's peaks.
/// </summary>
[Config(typeof(RooflineConfig))]
public abstract class DeviceBenchmark
{
    private readonly List<IDisposable> owned = [];
    private ulong seed = 1;
    private string? lastMethod;

    /// <summary>The shared device (<see cref="BenchDevice.Instance"/>).</summary>
    protected static Device Device => BenchDevice.Instance;

    /// <summary>Allocates the operands and records the workload of each benchmark method.</summary>
    protected abstract void Setup();

    [GlobalSetup]
    public void GlobalSetup()
    {
        Setup();
        Device.Synchronize();
        foreach (var method in GetType().GetMethods().Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null))
            method.Invoke(this, null);
        lastMethod = null;
        Device.Memory.Trim();
        Device.Memory.ResetPeak();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Device.Synchronize();
        if (lastMethod is not null) Roofline.RecordPeakMemory(GetType(), lastMethod, Device.Memory.PeakReservedBytes);
        for (int i = owned.Count - 1; i >= 0; i--) owned[i].Dispose();
        owned.Clear();
        Device.Memory.Trim();
    }

    /// <summary><paramref name="sd15"/> normally, <paramref name="small"/> in short mode (<see cref="BenchDevice.Short"/>).</summary>
    protected static T Pick<T>(T sd15, T small) => BenchDevice.Short ? small : sd15;

    /// <summary>
    /// Records that one call of benchmark method <paramref name="method"/> does <paramref name="flops"/> floating-point
    /// operations and moves at least <paramref name="bytes"/> bytes to or from device memory (0: not counted).
    /// </summary>
    protected void Record(string method, string shape, double flops = 0, double bytes = 0) =>
        Roofline.Record(GetType(), method, shape, flops, bytes, Device);

    /// <summary>Waits for the device; every benchmark method ends with it.</summary>
    protected void Synchronize([CallerMemberName] string method = "")
    {
        Device.Synchronize();
        lastMethod = method;
    }

    /// <summary>A new F32 tensor of standard normal values (Philox, a fresh seed per call), freed in cleanup.</summary>
    protected Tensor Random(params int[] shape)
    {
        var t = Own(Tensor.Empty(Device, DType.F32, shape));
        Philox.Normal(t, seed++);
        return t;
    }

    /// <summary>A new F16 tensor of standard normal values, freed in cleanup.</summary>
    protected Tensor RandomF16(params int[] shape)
    {
        using var f32 = Tensor.Empty(Device, DType.F32, shape);
        Philox.Normal(f32, seed++);
        return Own(Tensor.FromHost(Device, f32.ToFloatArray().Select(v => (System.Half)v).ToArray(), shape));
    }

    /// <summary>A new uninitialized F32 tensor, freed in cleanup.</summary>
    protected Tensor Empty(params int[] shape) => Own(Tensor.Empty(Device, DType.F32, shape));

    /// <summary>Frees <paramref name="resource"/> in cleanup.</summary>
    protected T Own<T>(T resource) where T : IDisposable
    {
        owned.Add(resource);
        return resource;
    }

    /// <summary>Bytes of an F32 tensor of this many elements.</summary>
    protected static double F32Bytes(double elements) => 4 * elements;
}
