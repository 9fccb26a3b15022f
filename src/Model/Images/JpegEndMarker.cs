namespace IlgpuDiffusion.Model.Images;

/// <summary>
/// Detects a truncated JPEG, which ImageSharp decodes without complaint (the missing rows come out grey) where PIL and
/// libjpeg refuse or warn: walks the marker segments to the first scan, then looks for the end-of-image marker
/// (FF D9) in the entropy-coded data, where a 0xFF byte is otherwise always followed by 00 or a restart marker.
/// Data after the marker (phone makers' trailers, motion-photo videos) is allowed.
/// </summary>
internal static class JpegEndMarker
{
    private const int StartOfScan = 0xDA;
    private const int EndOfImage = 0xD9;

    /// <summary>Whether the JPEG in <paramref name="stream"/>, starting with its SOI marker, reaches an EOI marker.</summary>
    public static bool IsPresent(Stream stream)
    {
        stream.Position = 2;
        while (true)
        {
            int marker = NextMarker(stream);
            if (marker < 0) return false;
            if (marker == EndOfImage) return true;
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7)) continue; // markers without a length
            int high = stream.ReadByte(), low = stream.ReadByte();
            int length = (high << 8) | low;
            if (low < 0 || length < 2) return false; // the length counts its own two bytes
            stream.Seek(length - 2, SeekOrigin.Current);
            if (marker == StartOfScan) return FindEndOfImage(stream);
        }
    }

    /// <summary>The code of the next marker, skipping fill bytes and, as libjpeg does, stray bytes before it; −1 at the end.</summary>
    private static int NextMarker(Stream stream)
    {
        int b;
        do b = stream.ReadByte(); while (b >= 0 && b != 0xFF);
        while (b == 0xFF) b = stream.ReadByte();
        return b;
    }

    private static bool FindEndOfImage(Stream stream)
    {
        var buffer = new byte[1 << 16];
        bool afterFF = false;
        for (int read; (read = stream.Read(buffer)) > 0;)
            foreach (byte b in buffer.AsSpan(0, read))
            {
                if (afterFF && b == EndOfImage) return true;
                afterFF = b == 0xFF;
            }
        return false;
    }
}
