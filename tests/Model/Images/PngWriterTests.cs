using System.Buffers.Binary;
using System.Text;
using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Tests.Model.Images;

public sealed class PngWriterTests : IDisposable
{
    private static readonly Encoding Latin1 = Encoding.Latin1;
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("idf-png-");

    public void Dispose() => folder.Delete(recursive: true);

    [Fact]
    public void Writes_an_8_bit_rgb_png_with_a_tEXt_parameters_chunk_before_the_image_data()
    {
        var parameters = Parameters("a photo of a dog, (masterpiece:1.2)", "blurry, lowres");
        var path = Save(TestImages.Noise(7, 5, seed: 8), parameters);

        var chunks = PngChunks.Read(File.ReadAllBytes(path));

        var header = chunks[0];
        Assert.Equal("IHDR", header.Type);
        Assert.Equal(7u, BinaryPrimitives.ReadUInt32BigEndian(header.Data));
        Assert.Equal(5u, BinaryPrimitives.ReadUInt32BigEndian(header.Data.AsSpan(4)));
        Assert.Equal((byte)8, header.Data[8]); // bit depth
        Assert.Equal((byte)2, header.Data[9]); // RGB, no alpha
        Assert.Equal("IEND", chunks[^1].Type);

        var text = Assert.Single(chunks, c => c.Type is "tEXt" or "zTXt" or "iTXt");
        Assert.Equal("tEXt", text.Type);
        int nul = Array.IndexOf(text.Data, (byte)0);
        Assert.Equal(PngWriter.ParametersKeyword, Latin1.GetString(text.Data, 0, nul));
        Assert.Equal(parameters.ToA1111Text(), Latin1.GetString(text.Data, nul + 1, text.Data.Length - nul - 1));
        Assert.True(chunks.IndexOf(text) < chunks.FindIndex(c => c.Type == "IDAT"), "PIL's Image.open reads only the text chunks before IDAT");
    }

    [Fact]
    public void Long_latin1_text_stays_uncompressed_tEXt()
    {
        var parameters = Parameters(string.Join(", ", Enumerable.Repeat("très détaillé", 200)), "");
        var chunks = PngChunks.Read(File.ReadAllBytes(Save(TestImages.Noise(2, 2, seed: 9), parameters)));

        var text = Assert.Single(chunks, c => c.Type is "tEXt" or "zTXt" or "iTXt");
        Assert.Equal("tEXt", text.Type);
        Assert.EndsWith(parameters.ToA1111Text(), Latin1.GetString(text.Data));
    }

    [Fact]
    public void Text_beyond_latin1_is_written_as_utf8_iTXt()
    {
        var parameters = Parameters("富士山の写真, 🎨", "ぼやけた");
        var chunks = PngChunks.Read(File.ReadAllBytes(Save(TestImages.Noise(2, 2, seed: 10), parameters)));

        var text = Assert.Single(chunks, c => c.Type is "tEXt" or "zTXt" or "iTXt");
        Assert.Equal("iTXt", text.Type);
        // keyword NUL, compression flag, compression method, language tag NUL, translated keyword NUL, UTF-8 text
        var data = text.Data;
        int nul = Array.IndexOf(data, (byte)0);
        Assert.Equal(PngWriter.ParametersKeyword, Latin1.GetString(data, 0, nul));
        Assert.Equal((byte)0, data[nul + 1]);
        int languageEnd = Array.IndexOf(data, (byte)0, nul + 3);
        int translatedEnd = Array.IndexOf(data, (byte)0, languageEnd + 1);
        Assert.Equal(parameters.ToA1111Text(), Encoding.UTF8.GetString(data, translatedEnd + 1, data.Length - translatedEnd - 1));
    }

    [Fact]
    public void Without_parameters_no_text_chunk_is_written()
    {
        var chunks = PngChunks.Read(File.ReadAllBytes(Save(TestImages.Noise(3, 3, seed: 11), null)));
        Assert.DoesNotContain(chunks, c => c.Type is "tEXt" or "zTXt" or "iTXt");
    }

    [Fact]
    public void Overwrites_atomically_and_leaves_no_temporary_file()
    {
        var path = Path.Combine(folder.FullName, "out.png");
        File.WriteAllText(path, "old");

        PngWriter.Save(path, TestImages.Noise(4, 4, seed: 12));

        Assert.Equal(4, ImageFile.Read(path).Width);
        Assert.Equal(["out.png"], folder.GetFiles().Select(f => f.Name));
    }

    [Fact]
    public void Wrong_pixel_count_is_refused_before_anything_is_written()
    {
        var path = Path.Combine(folder.FullName, "bad.png");

        var e = Assert.Throws<ArgumentException>(() => PngWriter.Save(path, new byte[10], 2, 2));

        Assert.Contains("bad.png", e.Message);
        Assert.Contains("12", e.Message);
        Assert.Empty(folder.GetFiles());
    }

    private string Save(RgbImage image, GenerationParameters? parameters)
    {
        var path = Path.Combine(folder.FullName, $"{Guid.NewGuid():N}.png");
        PngWriter.Save(path, image.Pixels, image.Width, image.Height, parameters);
        return path;
    }

    private static GenerationParameters Parameters(string prompt, string negative) =>
        new(prompt, negative, 20, "Euler a", 7.5, 1234, 512, 512) { ModelHash = "abcdef1234", ModelName = "v1-5-pruned-emaonly" };
}
