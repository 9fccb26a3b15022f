using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Model;

public sealed class LdmUNetNamesTests
{
    [Fact]
    public void Every_diffusers_UNet_tensor_maps_back_to_its_tensor_in_the_single_file()
    {
        using var folder = SafeTensorsReader.Open(Fixtures.Path("tiny-sd", "unet", "diffusion_pytorch_model.safetensors"));
        using var single = SafeTensorsReader.Open(Fixtures.Path("tiny-sd-single.safetensors"));
        var config = UNetConfig.Load(Fixtures.Path("tiny-sd", "unet", "config.json"));
        var names = folder.Tensors.Select(t => t.Name).ToList();

        var ldm = LdmUNetNames.ToLdm(config, names);

        Assert.Equal(names.Count, ldm.Count);
        foreach (var name in names)
        {
            var source = "model.diffusion_model." + ldm[name];
            Assert.True(single.Contains(source), $"{name} → {source}");
            Assert.Equal(folder.ReadF32(name), single.ReadF32(source));
        }
        Assert.Equal("input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight", ldm["down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight"]);
        Assert.Equal("output_blocks.5.0.skip_connection.weight", ldm["up_blocks.1.resnets.2.conv_shortcut.weight"]);
    }

    [Fact]
    public void A_renamer_with_two_sources_for_one_target_has_no_inverse()
    {
        var names = new ModuleRenamer().Add("mid.attn_1", "mid_block.attentions.0", new Dictionary<string, string> { ["q"] = "to_q", ["query"] = "to_q" });
        Assert.Throws<ArgumentException>(names.Inverse);
    }
}
