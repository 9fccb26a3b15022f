using System.Buffers.Binary;

namespace IlgpuDiffusion.Model.SafeTensors;

/// <summary>
/// A safetensors file's header, read and validated: the 8-byte little-endian length, the JSON (see
/// <see cref="SafeTensorsHeaderJson"/>), each tensor's shape against its byte range, and the byte ranges, which
/// sorted by start must tile the data section exactly (no overlap, no gap, nothing left over).
/// </summary>
internal sealed class SafeTensorsHeader
{
    /// <summary>The largest header accepted, as in the reference implementation: a bound on what a bad file can make us allocate.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private SafeTensorsHeader(Dictionary<string, string> metadata, SafeTensorInfo[] tensors, long dataStart)
    {
        Metadata = metadata.AsReadOnly();
        Tensors = Array.AsReadOnly(tensors);
        ByName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal).AsReadOnly();
        DataStart = dataStart;
    }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensors sorted by name (ordinal).</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    public IReadOnlyDictionary<string, SafeTensorInfo> ByName { get; }

    /// <summary>The file offset of the data section: 8 plus the header length.</summary>
    public long DataStart { get; }

    /// <summary>Reads the header from the start of <paramref name="file"/>; <paramref name="path"/> names it in errors.</summary>
    public static SafeTensorsHeader Read(Stream file, string path)
    {
        long fileLength = file.Length;
        if (fileLength == 0) throw new SafeTensorsFormatException(path, null, "the file is empty");
        if (fileLength < 8)
            throw new SafeTensorsFormatException(path, null, $"the file is {fileLength} bytes, too short for the 8-byte header length");
        Span<byte> prefix = stackalloc byte[8];
        file.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
            throw new SafeTensorsFormatException(path, null, $"the header length {headerLength} is above the limit of {MaxHeaderBytes} bytes");
        if (headerLength > (ulong)(fileLength - 8))
            throw new SafeTensorsFormatException(path, null, $"the header length {headerLength} runs past the end of the file ({fileLength} bytes)");
        var json = new byte[headerLength];
        file.ReadExactly(json);
        var (metadata, entries) = SafeTensorsHeaderJson.Parse(json, path);
        long dataStart = 8 + (long)headerLength;
        var tensors = entries.Select(e => Check(e, fileLength - dataStart, path)).ToArray();
        CheckTiling(tensors, fileLength - dataStart, path);
        Array.Sort(tensors, (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return new SafeTensorsHeader(metadata, tensors, dataStart);
    }

    private static SafeTensorInfo Check(SafeTensorsHeaderJson.Entry entry, long dataLength, string path)
    {
        var shapeText = $"[{string.Join(", ", entry.Shape)}]";
        var rangeText = $"data_offsets [{entry.Start}, {entry.End}]";
        var shape = new int[entry.Shape.Length];
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            long dim = entry.Shape[i];
            if (dim < 0) throw new SafeTensorsFormatException(path, entry.Name, $"shape {shapeText} has a negative dimension");
            if (dim > int.MaxValue)
                throw new SafeTensorsFormatException(path, entry.Name, $"shape {shapeText} has a dimension above {int.MaxValue}");
            shape[i] = (int)dim;
            count = count <= long.MaxValue / Math.Max(dim, 1) ? count * dim
                : throw new SafeTensorsFormatException(path, entry.Name, $"shape {shapeText} has more elements than a 64-bit count holds");
        }
        if (entry.Start < 0 || entry.End < 0)
            throw new SafeTensorsFormatException(path, entry.Name, $"{rangeText} are negative");
        if (entry.End < entry.Start)
            throw new SafeTensorsFormatException(path, entry.Name, $"{rangeText} end before they start");
        if (entry.End > dataLength)
            throw new SafeTensorsFormatException(path, entry.Name, $"{rangeText} run past the end of the data section ({dataLength} bytes)");
        int size = entry.DType.Size();
        if (count > long.MaxValue / size || count * size != entry.End - entry.Start)
            throw new SafeTensorsFormatException(path, entry.Name,
                $"shape {shapeText} of {entry.DType} needs {count} × {size} bytes but {rangeText} hold {entry.End - entry.Start}");
        return new SafeTensorInfo(entry.Name, entry.DType, shape, count, entry.Start);
    }

    private static void CheckTiling(SafeTensorInfo[] tensors, long dataLength, string path)
    {
        var byStart = tensors.OrderBy(t => t.DataOffset).ThenBy(t => t.ByteLength).ToArray();
        long end = 0;
        SafeTensorInfo? previous = null;
        foreach (var t in byStart)
        {
            if (t.DataOffset > end)
                throw new SafeTensorsFormatException(path, t.Name, previous is null
                    ? $"it starts at byte {t.DataOffset} of the data section, leaving a gap before it (the first tensor must start at 0)"
                    : $"it starts at byte {t.DataOffset} of the data section, leaving a gap after '{previous.Name}', which ends at {end}");
            if (t.DataOffset < end)
                throw new SafeTensorsFormatException(path, t.Name,
                    $"it starts at byte {t.DataOffset} of the data section, overlapping '{previous!.Name}', which ends at {end}");
            end = t.DataOffset + t.ByteLength;
            previous = t;
        }
        if (end != dataLength)
            throw new SafeTensorsFormatException(path, previous?.Name,
                $"the tensors cover {end} bytes but the data section has {dataLength}: {dataLength - end} bytes belong to no tensor");
    }
}
