using System.Security.Cryptography;
using System.Text;
using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Tests.Model.Images;

public sealed class ModelHashTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("idf-hash-");

    public void Dispose() => folder.Delete(recursive: true);

    [Fact]
    public void Is_the_first_ten_hex_digits_of_sha256()
    {
        // FIPS 180-2 test vector: SHA-256("abc") = ba7816bf 8f01cfea ...
        Assert.Equal("ba7816bf8f", ModelHash.A1111(Write("abc.safetensors", Encoding.ASCII.GetBytes("abc"))));
    }

    [Fact]
    public void Streams_a_file_larger_than_its_buffer()
    {
        var bytes = new byte[(3 << 20) + 12345];
        new Random(13).NextBytes(bytes);

        var hash = ModelHash.A1111(Write("model.safetensors", bytes));

        Assert.Equal(Convert.ToHexString(SHA256.HashData(bytes))[..10].ToLowerInvariant(), hash);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var path = Path.Combine(folder.FullName, "absent.safetensors");
        Assert.Contains("absent.safetensors", Assert.Throws<FileNotFoundException>(() => ModelHash.A1111(path)).Message);
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(folder.FullName, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
