using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Tests.Model.Images;

public class JpegEndMarkerTests
{
    [Theory]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xD9 }, true)] // SOI EOI
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xFF, 0xD9, 0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0x00, 0xFF, 0xD9 }, true)] // FF D9 inside APP0 is skipped; stuffed FF 00 in the scan
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0x00, 0xFF, 0xD0, 0x34 }, false)] // scan ends without EOI
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x00, 0xFF, 0xD9 }, false)] // a segment length below 2 is corrupt, not a loop
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 0x00 }, false)] // cut inside a length
    public void Finds_the_end_of_image_marker_after_the_scan(byte[] jpeg, bool expected)
    {
        Assert.Equal(expected, JpegEndMarker.IsPresent(new MemoryStream(jpeg)));
    }
}
