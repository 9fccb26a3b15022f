using System.Buffers;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Model.SafeTensors;

/// <summary>
/// Collects named tensors from host arrays (or device tensors) and metadata, and saves them as one safetensors
/// file. The file is written atomically (temporary file, flush, rename), with its keys sorted, its header padded
/// with spaces to a multiple of 8 bytes, and the tensors' little-endian data laid out contiguously in name order.
/// <code>
/// var file = new SafeTensorsWriter();
/// file.Metadata["format"] = "pt";
/// file.Add("to_k.weight", weights, [64, 32])
///     .Add("to_k.weight.fp16", weights, [64, 32], SafeTensorsDType.F16)
///     .Add("input_ids", ids, [2, 77]);
/// file.Save("adapter.safetensors");
/// </code>
/// Arguments are checked when a tensor is added. The writer keeps a reference to each array and reads it when
/// <see cref="Save"/> runs, so do not change the arrays in between.
/// </summary>
public sealed class SafeTensorsWriter
{
    private const int ChunkBytes = 1 << 20;
    private readonly Dictionary<string, Entry> entries = new(StringComparer.Ordinal);

    /// <summary>Encodes elements [start, start + count) of an entry's data into <paramref name="destination"/>.</summary>
    private delegate void EncodeRange(int start, int count, Span<byte> destination);

    /// <summary>The <c>__metadata__</c> string map written to the header (omitted when empty).</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The number of tensors added.</summary>
    public int Count => entries.Count;

    /// <summary>Adds float data stored as <paramref name="dtype"/>: F32, F16 or BF16 (rounded to nearest even), or F64.</summary>
    public SafeTensorsWriter Add(string name, ReadOnlyMemory<float> data, ReadOnlySpan<int> shape, SafeTensorsDType dtype = SafeTensorsDType.F32)
    {
        if (!dtype.IsFloat())
            throw new ArgumentException($"tensor '{name}': float data is stored as F32, F16, BF16 or F64, not {dtype}.", nameof(dtype));
        return Add(name, dtype, shape, data.Length, (start, count, bytes) => SafeTensorsEncode.Floats(dtype, data.Span.Slice(start, count), bytes));
    }

    /// <summary>Adds F16 data.</summary>
    public SafeTensorsWriter Add(string name, ReadOnlyMemory<Half> data, ReadOnlySpan<int> shape)
        => Add(name, SafeTensorsDType.F16, shape, data.Length, (start, count, bytes) => SafeTensorsEncode.Halves(data.Span.Slice(start, count), bytes));

    /// <summary>Adds F64 data.</summary>
    public SafeTensorsWriter Add(string name, ReadOnlyMemory<double> data, ReadOnlySpan<int> shape)
        => Add(name, SafeTensorsDType.F64, shape, data.Length, (start, count, bytes) => SafeTensorsEncode.Doubles(data.Span.Slice(start, count), bytes));

    /// <summary>Adds I32 data.</summary>
    public SafeTensorsWriter Add(string name, ReadOnlyMemory<int> data, ReadOnlySpan<int> shape)
        => Add(name, SafeTensorsDType.I32, shape, data.Length, (start, count, bytes) => SafeTensorsEncode.Ints(data.Span.Slice(start, count), bytes));

    /// <summary>Adds I64 data.</summary>
    public SafeTensorsWriter Add(string name, ReadOnlyMemory<long> data, ReadOnlySpan<int> shape)
        => Add(name, SafeTensorsDType.I64, shape, data.Length, (start, count, bytes) => SafeTensorsEncode.Longs(data.Span.Slice(start, count), bytes));

    /// <summary>Copies a device tensor to the host now and adds it with its own dtype (F32, F16 or I32) and shape.</summary>
    public SafeTensorsWriter Add(string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var shape = tensor.Shape.ToArray();
        return tensor.DType switch
        {
            DType.F32 => Add(name, tensor.ToFloatArray(), shape),
            DType.F16 => Add(name, tensor.ToHalfArray(), shape),
            DType.I32 => Add(name, tensor.ToIntArray(), shape),
            var other => throw new ArgumentOutOfRangeException(nameof(tensor), other, $"tensor '{name}': no safetensors dtype for {other}."),
        };
    }

    /// <summary>Writes the file atomically, replacing any file at <paramref name="path"/>.</summary>
    public void Save(string path)
    {
        var ordered = entries.OrderBy(e => e.Key, StringComparer.Ordinal).ToArray();
        var header = Header(ordered);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
            try
            {
                foreach (var (_, entry) in ordered) WriteData(stream, entry, buffer);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        });
    }

    private SafeTensorsWriter Add(string name, SafeTensorsDType dtype, ReadOnlySpan<int> shape, int count, EncodeRange encode)
    {
        ArgumentNullException.ThrowIfNull(name);
        var shapeText = $"[{string.Join(", ", shape.ToArray())}]";
        if (name == SafeTensorsHeaderJson.MetadataKey)
            throw new ArgumentException($"'{name}' is reserved for the metadata; it cannot name a tensor.", nameof(name));
        if (entries.ContainsKey(name)) throw new ArgumentException($"tensor '{name}' was already added.", nameof(name));
        long elements = 1;
        foreach (var dim in shape)
        {
            if (dim < 0) throw new ArgumentException($"tensor '{name}': shape {shapeText} has a negative dimension.", nameof(shape));
            elements *= dim;
            if (elements > int.MaxValue) throw new ArgumentException($"tensor '{name}': shape {shapeText} has more elements than an array holds.", nameof(shape));
        }
        if (elements != count)
            throw new ArgumentException($"tensor '{name}': {count} values do not fill shape {shapeText} ({elements} elements).", nameof(shape));
        entries.Add(name, new Entry(dtype, shape.ToArray(), count, encode));
        return this;
    }

    private byte[] Header(KeyValuePair<string, Entry>[] ordered)
    {
        var json = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            if (Metadata.Count > 0)
            {
                writer.WriteStartObject(SafeTensorsHeaderJson.MetadataKey);
                foreach (var (key, value) in Metadata.OrderBy(m => m.Key, StringComparer.Ordinal))
                    writer.WriteString(key, value ?? throw new ArgumentException($"metadata '{key}' is null; values must be strings."));
                writer.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, entry) in ordered)
            {
                writer.WriteStartObject(name);
                writer.WriteString("dtype", entry.DType.ToString());
                writer.WriteStartArray("shape");
                foreach (var dim in entry.Shape) writer.WriteNumberValue(dim);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                offset += entry.ByteLength;
                writer.WriteNumberValue(offset);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        var header = new byte[(json.WrittenCount + 7) / 8 * 8];
        json.WrittenSpan.CopyTo(header);
        header.AsSpan(json.WrittenCount).Fill((byte)' ');
        return header;
    }

    private static void WriteData(Stream stream, Entry entry, byte[] buffer)
    {
        int size = entry.DType.Size();
        int perChunk = buffer.Length / size;
        for (int start = 0; start < entry.Count; start += perChunk)
        {
            int count = Math.Min(perChunk, entry.Count - start);
            entry.Encode(start, count, buffer.AsSpan(0, count * size));
            stream.Write(buffer, 0, count * size);
        }
    }

    private sealed record Entry(SafeTensorsDType DType, int[] Shape, int Count, EncodeRange Encode)
    {
        public long ByteLength => (long)Count * DType.Size();
    }
}
