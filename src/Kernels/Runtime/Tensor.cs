using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// A row-major device tensor: a block from the device's caching allocator with a <see cref="Shape"/> and a
/// <see cref="DType"/>. A tensor owns its storage and must be disposed; <see cref="Reshape"/> returns another
/// owner of the same storage, which is returned to the allocator when the last owner is disposed.
/// </summary>
public sealed class Tensor : IDisposable
{
    private readonly Storage storage;
    private bool disposed;

    private Tensor(Storage storage, DType dtype, Shape shape)
    {
        this.storage = storage;
        DType = dtype;
        Shape = shape;
    }

    public Device Device => storage.Device;

    public DType DType { get; }

    public Shape Shape { get; }

    /// <summary>The number of elements.</summary>
    public int Count => Shape.ElementCount;

    /// <summary>The number of bytes the elements occupy (the allocator's block may be larger).</summary>
    public long ByteCount => (long)Count * DType.Size();

    /// <summary>A tensor whose contents are undefined (a reused block holds whatever it held before).</summary>
    public static Tensor Empty(Device device, DType dtype, params int[] shape)
    {
        var s = new Shape(shape);
        return new Tensor(new Storage(device, (long)s.ElementCount * dtype.Size()), dtype, s);
    }

    /// <summary>A tensor filled with zeros.</summary>
    public static Tensor Zeros(Device device, DType dtype, params int[] shape)
    {
        var t = Empty(device, dtype, shape);
        t.RawView.MemSetToZero(device.Accelerator.DefaultStream);
        return t;
    }

    /// <summary>An F32 tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor FromHost(Device device, ReadOnlySpan<float> data, params int[] shape)
        => FromBytes(device, DType.F32, MemoryMarshal.AsBytes(data), data.Length, shape);

    /// <summary>An F16 tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor FromHost(Device device, ReadOnlySpan<System.Half> data, params int[] shape)
        => FromBytes(device, DType.F16, MemoryMarshal.AsBytes(data), data.Length, shape);

    /// <summary>An I32 tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor FromHost(Device device, ReadOnlySpan<int> data, params int[] shape)
        => FromBytes(device, DType.I32, MemoryMarshal.AsBytes(data), data.Length, shape);

    /// <summary>A tensor of <paramref name="dtype"/> whose elements are the little-endian <paramref name="bytes"/>.</summary>
    public static Tensor FromBytes(Device device, DType dtype, ReadOnlySpan<byte> bytes, int count, params int[] shape)
    {
        var s = new Shape(shape);
        if (s.ElementCount != count)
            throw new ArgumentException($"{count} elements do not fill shape {s} ({s.ElementCount} elements).");
        if (bytes.Length != (long)count * dtype.Size())
            throw new ArgumentException($"{bytes.Length} bytes are not {count} elements of {dtype}.");
        var t = Empty(device, dtype, shape);
        t.RawView.CopyFromCPU(device.Accelerator.DefaultStream, bytes);
        return t;
    }

    /// <summary>Copies <paramref name="data"/> into this F32 tensor; the lengths must match.</summary>
    public void CopyFromHost(ReadOnlySpan<float> data) => CopyFromBytes(DType.F32, MemoryMarshal.AsBytes(data), data.Length);

    /// <summary>Copies <paramref name="data"/> into this F16 tensor; the lengths must match.</summary>
    public void CopyFromHost(ReadOnlySpan<System.Half> data) => CopyFromBytes(DType.F16, MemoryMarshal.AsBytes(data), data.Length);

    /// <summary>Copies <paramref name="data"/> into this I32 tensor; the lengths must match.</summary>
    public void CopyFromHost(ReadOnlySpan<int> data) => CopyFromBytes(DType.I32, MemoryMarshal.AsBytes(data), data.Length);

    /// <summary>The elements as floats (F16 is widened exactly). Waits for queued work.</summary>
    public float[] ToFloatArray()
    {
        switch (DType)
        {
            case DType.F32:
                var result = new float[Count];
                CopyToBytes(MemoryMarshal.AsBytes(result.AsSpan()));
                return result;
            case DType.F16:
                var halves = ToHalfArray();
                var widened = new float[halves.Length];
                for (int i = 0; i < halves.Length; i++) widened[i] = (float)halves[i];
                return widened;
            default:
                throw new InvalidOperationException($"ToFloatArray: tensor {Shape} is {DType}; token ids and timesteps stay integers (use ToIntArray).");
        }
    }

    /// <summary>The elements of an F16 tensor. Waits for queued work.</summary>
    public System.Half[] ToHalfArray()
    {
        RequireDType(DType.F16, nameof(ToHalfArray));
        var result = new System.Half[Count];
        CopyToBytes(MemoryMarshal.AsBytes(result.AsSpan()));
        return result;
    }

    /// <summary>The elements of an I32 tensor. Waits for queued work.</summary>
    public int[] ToIntArray()
    {
        RequireDType(DType.I32, nameof(ToIntArray));
        var result = new int[Count];
        CopyToBytes(MemoryMarshal.AsBytes(result.AsSpan()));
        return result;
    }

    /// <summary>Another owner of the same storage and shape: the storage lives until every owner is disposed.</summary>
    public Tensor Share() => Reshape(Shape.ToArray());

    /// <summary>Another owner of the same storage with a new shape of the same element count.</summary>
    public Tensor Reshape(params int[] shape)
    {
        var s = new Shape(shape);
        if (s.ElementCount != Count) throw new ArgumentException($"cannot reshape {Shape} ({Count} elements) to {s} ({s.ElementCount} elements).");
        ObjectDisposedException.ThrowIf(disposed, this);
        storage.AddOwner();
        return new Tensor(storage, DType, s);
    }

    /// <summary>The elements of an F32 tensor, for kernel launchers.</summary>
    public ArrayView<float> F32View => Typed<float>(DType.F32);

    /// <summary>The elements of an F16 tensor, for kernel launchers.</summary>
    public ArrayView<ILGPU.Half> F16View => Typed<ILGPU.Half>(DType.F16);

    /// <summary>The elements of an I32 tensor, for kernel launchers.</summary>
    public ArrayView<int> I32View => Typed<int>(DType.I32);

    private ArrayView1D<byte, Stride1D.Dense> RawView
    {
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return storage.Block.View.SubView(0, ByteCount);
        }
    }

    private ArrayView<T> Typed<T>(DType expected) where T : unmanaged
    {
        RequireDType(expected, typeof(T).Name + " view");
        return RawView.AsContiguous().Cast<T>();
    }

    private void RequireDType(DType expected, string what)
    {
        if (DType != expected) throw new InvalidOperationException($"{what}: tensor {Shape} is {DType}, expected {expected}.");
    }

    private void CopyFromBytes(DType dtype, ReadOnlySpan<byte> bytes, int count)
    {
        RequireDType(dtype, "copy from host");
        if (count != Count) throw new ArgumentException($"copy of {count} elements into tensor {Shape} of {Count}.");
        RawView.CopyFromCPU(Device.Accelerator.DefaultStream, bytes);
    }

    private void CopyToBytes(Span<byte> destination)
    {
        RawView.CopyToCPU(Device.Accelerator.DefaultStream, destination);
        Device.Synchronize();
    }

    public override string ToString() => $"Tensor {DType} {Shape}";

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        storage.RemoveOwner();
    }

    /// <summary>A ref-counted allocator block shared by a tensor and its reshapes.</summary>
    private sealed class Storage
    {
        private int owners = 1;

        public Storage(Device device, long bytes)
        {
            Device = device;
            Block = device.Memory.Rent(bytes);
        }

        public Device Device { get; }

        public MemoryBuffer1D<byte, Stride1D.Dense> Block { get; }

        public void AddOwner() => Interlocked.Increment(ref owners);

        public void RemoveOwner()
        {
            if (Interlocked.Decrement(ref owners) == 0) Device.Memory.Return(Block);
        }
    }
}
