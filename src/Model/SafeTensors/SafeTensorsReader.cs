using System.IO.MemoryMappedFiles;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Model.SafeTensors;

/// <summary>
/// Reads a safetensors file through a memory map. <see cref="Open"/> reads and validates the header only; each
/// tensor's bytes are read (paged in) when it is asked for, and converted: float dtypes to F32 or F16, integer
/// dtypes to I32 (an I64 value outside the int range is an error). Reads may run concurrently; dispose the reader
/// when done.
/// <code>
/// using var file = SafeTensorsReader.Open("unet/diffusion_pytorch_model.safetensors");
/// float[] bias = file.ReadF32("conv_in.bias");
/// using Tensor weight = file.ReadTensor(device, "conv_in.weight", DType.F16);
/// </code>
/// </summary>
public sealed unsafe class SafeTensorsReader : IDisposable
{
    private readonly SafeTensorsHeader header;
    private readonly MemoryMappedFile mapping;
    private readonly MemoryMappedViewAccessor view;
    private readonly byte* data;
    private bool disposed;

    private SafeTensorsReader(string path, SafeTensorsHeader header, MemoryMappedFile mapping, MemoryMappedViewAccessor view)
    {
        Path = path;
        this.header = header;
        this.mapping = mapping;
        this.view = view;
        byte* start = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        data = start + view.PointerOffset + header.DataStart;
    }

    /// <summary>The full path of the file.</summary>
    public string Path { get; }

    /// <summary>The header's <c>__metadata__</c> map (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata => header.Metadata;

    /// <summary>The tensors, sorted by name (ordinal).</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors => header.Tensors;

    /// <summary>
    /// Opens <paramref name="path"/> and validates its header. Throws <see cref="SafeTensorsFormatException"/>
    /// when the file is not a valid safetensors file.
    /// </summary>
    public static SafeTensorsReader Open(string path)
    {
        var fullPath = System.IO.Path.GetFullPath(path);
        var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        MemoryMappedFile? mapping = null;
        try
        {
            var header = SafeTensorsHeader.Read(stream, fullPath);
            mapping = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            return new SafeTensorsReader(fullPath, header, mapping, mapping.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read));
        }
        catch
        {
            mapping?.Dispose();
            stream.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => header.ByName.ContainsKey(name);

    /// <summary>The header entry of <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> naming the file and tensor.</summary>
    public SafeTensorInfo GetInfo(string name) => header.ByName.TryGetValue(name, out var info)
        ? info
        : throw new KeyNotFoundException($"tensor '{name}' is not in '{Path}' ({header.Tensors.Count} tensors).");

    /// <summary>A float tensor as F32 (F16 and BF16 widen exactly; F64 rounds to nearest).</summary>
    public float[] ReadF32(string name)
    {
        var info = GetFloat(name);
        var bytes = Bytes(info);
        var result = new float[info.ElementCount];
        SafeTensorsDecode.ToF32(info.DType, bytes, result);
        return result;
    }

    /// <summary>A float tensor as F16 (F32, BF16 and F64 round to nearest even, once).</summary>
    public Half[] ReadF16(string name)
    {
        var info = GetFloat(name);
        var bytes = Bytes(info);
        var result = new Half[info.ElementCount];
        SafeTensorsDecode.ToF16(info.DType, bytes, result);
        return result;
    }

    /// <summary>An integer tensor as I32; an I64 value outside the int range throws <see cref="OverflowException"/>.</summary>
    public int[] ReadI32(string name)
    {
        var info = GetInfo(name);
        if (info.DType.IsFloat())
            throw new InvalidOperationException($"tensor '{name}' in '{Path}' is {info.DType}, a float type: read it with ReadF32 or ReadF16.");
        var bytes = Bytes(info);
        var result = new int[info.ElementCount];
        try
        {
            SafeTensorsDecode.ToI32(info.DType, bytes, result);
        }
        catch (OverflowException e)
        {
            throw new OverflowException($"tensor '{name}' in '{Path}' cannot be read as I32: {e.Message}.", e);
        }
        return result;
    }

    /// <summary>
    /// Loads a tensor onto <paramref name="device"/> as <paramref name="dtype"/>; by default F32 for float dtypes
    /// and I32 for integer ones. A scalar becomes shape [1]; a tensor with no elements is refused, since device
    /// shapes have positive dimensions.
    /// </summary>
    public Tensor ReadTensor(Device device, string name, DType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        var info = GetInfo(name);
        if (info.ElementCount == 0)
            throw new InvalidOperationException(
                $"tensor '{name}' in '{Path}' has shape [{string.Join(", ", info.Shape)}] with no elements; a device tensor cannot be empty.");
        int[] shape = info.Shape.Count == 0 ? [1] : [.. info.Shape];
        return (dtype ?? (info.DType.IsFloat() ? DType.F32 : DType.I32)) switch
        {
            DType.F32 => Tensor.FromHost(device, ReadF32(name), shape),
            DType.F16 => Tensor.FromHost(device, ReadF16(name), shape),
            DType.I32 => Tensor.FromHost(device, ReadI32(name), shape),
            var other => throw new ArgumentOutOfRangeException(nameof(dtype), other, null),
        };
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        mapping.Dispose();
    }

    private SafeTensorInfo GetFloat(string name)
    {
        var info = GetInfo(name);
        if (!info.DType.IsFloat())
            throw new InvalidOperationException(
                $"tensor '{name}' in '{Path}' is {info.DType}, an integer type: read it with ReadI32 (token ids and timesteps stay integers).");
        return info;
    }

    private ReadOnlySpan<byte> Bytes(SafeTensorInfo info)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (info.ByteLength > int.MaxValue)
            throw new NotSupportedException($"tensor '{info.Name}' in '{Path}' is {info.ByteLength} bytes; tensors above 2 GiB cannot be read.");
        return new ReadOnlySpan<byte>(data + info.DataOffset, (int)info.ByteLength);
    }
}
