using System.Buffers.Binary;
using System.Text;

namespace IlgpuDiffusion.Tests.Model.Images;

/// <summary>
/// Reads and writes PNG chunks by hand (length, type, data, CRC-32 per the PNG specification), independently of
/// ImageSharp, to check what the writer produced and to build files with exactly the header a test needs.
/// </summary>
internal static class PngChunks
{
    public static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>The chunks of <paramref name="png"/>, checking the signature, the bounds and every CRC.</summary>
    public static List<(string Type, byte[] Data)> Read(byte[] png)
    {
        Assert.True(png.AsSpan(0, 8).SequenceEqual(Signature), "PNG signature");
        var chunks = new List<(string, byte[])>();
        for (int at = 8; at < png.Length;)
        {
            int length = checked((int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at)));
            Assert.True(at + 12 + length <= png.Length, $"chunk at {at} runs past the end");
            var typeAndData = png.AsSpan(at + 4, 4 + length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at + 8 + length));
            var type = Encoding.ASCII.GetString(typeAndData[..4]);
            Assert.True(Crc32(typeAndData) == crc, $"CRC of chunk {type}");
            chunks.Add((type, typeAndData[4..].ToArray()));
            at += 12 + length;
        }
        return chunks;
    }

    /// <summary>One chunk with its length and CRC.</summary>
    public static byte[] Chunk(string type, byte[] data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)data.Length);
        Encoding.ASCII.GetBytes(type).CopyTo(chunk, 4);
        data.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    /// <summary>An IHDR for an 8-bit RGB image of the given size.</summary>
    public static byte[] RgbHeader(uint width, uint height)
    {
        var data = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(data, width);
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(4), height);
        data[8] = 8; // bit depth
        data[9] = 2; // colour type: RGB
        return Chunk("IHDR", data);
    }

    /// <summary>CRC-32 (ISO 3309, reflected polynomial 0xEDB88320), bit by bit.</summary>
    public static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
