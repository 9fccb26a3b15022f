using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Model;

/// <summary><see cref="VaeCheckpoint"/> (<c>--vae FILE</c>) reads the three VAE dialects to the same diffusers-named weights.</summary>
public sealed class VaeCheckpointTests : IDisposable
{
    private const string MidAttentionQuery = "decoder.mid_block.attentions.0.to_q.weight";

    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("idf-vae-");
    private readonly VaeConfig config = StableDiffusionConfig.FromFolder(TinyModel.Folder).Vae;

    public void Dispose() => folder.Delete(recursive: true);

    [Fact]
    public void Diffusers_single_file_and_plain_ldm_files_give_the_same_weights()
    {
        var plainLdm = Path.Combine(folder.FullName, "vae-ldm.safetensors");
        using (var single = SafeTensorsReader.Open(TinyModel.SingleFile))
        {
            var writer = new SafeTensorsWriter();
            foreach (var tensor in single.Tensors.Where(t => t.Name.StartsWith("first_stage_model.", StringComparison.Ordinal)))
                writer.Add(tensor.Name["first_stage_model.".Length..], single.ReadF32(tensor.Name), [.. tensor.Shape]);
            writer.Add("loss.logvar", new float[] { 0f }, [1]);
            writer.Save(plainLdm);
        }

        string[] files = [Fixtures.Path("tiny-sd", "vae", "diffusion_pytorch_model.safetensors"), TinyModel.SingleFile, plainLdm];
        var opened = files.Select(file => VaeCheckpoint.Open(file, config, Devices.Portable, DType.F32)).ToList();
        try
        {
            var diffusers = opened[0].Weights;
            Assert.Equal(new[] { config.BlockOutChannels[^1], config.BlockOutChannels[^1] }, opened[1].Weights.ShapeOf(MidAttentionQuery));
            foreach (var other in opened.Skip(1).Select(vae => vae.Weights))
            {
                Assert.Equal(diffusers.Names, other.Names);
                foreach (var name in diffusers.Names)
                {
                    Assert.Equal(diffusers.ShapeOf(name), other.ShapeOf(name));
                    Assert.Equal(diffusers.ReadF32(name), other.ReadF32(name));
                }
            }
        }
        finally
        {
            foreach (var vae in opened) vae.Dispose();
        }
    }

    [Fact]
    public void A_file_without_vae_tensors_or_with_mismatched_ones_names_the_file()
    {
        var error = Assert.Throws<CheckpointException>(() =>
            VaeCheckpoint.Open(Fixtures.Path("tiny-sd", "unet", "diffusion_pytorch_model.safetensors"), config, Devices.Portable, DType.F32).Dispose());
        Assert.Contains("unet", error.FilePath);

        using var vaeFile = VaeCheckpoint.Open(TinyModel.SingleFile, config, Devices.Portable, DType.F32);
        vaeFile.Weights.Take(MidAttentionQuery, [1, 1]).Dispose();
        var mismatch = Assert.Throws<CheckpointException>(vaeFile.Complete);
        Assert.Equal(TinyModel.SingleFile, mismatch.FilePath);
        Assert.Contains("wrong shape", mismatch.Message);
        Assert.Contains("unexpected", mismatch.Message);
    }

    [Fact]
    public void A_pickle_vae_is_refused()
    {
        var ckpt = Path.Combine(folder.FullName, "vae.ckpt");
        File.WriteAllBytes(ckpt, [0x80, 2]);
        var error = Assert.Throws<CheckpointException>(() => VaeCheckpoint.Open(ckpt, config, Devices.Portable, DType.F32));
        Assert.Contains("pickle", error.Message);
    }
}
