using IlgpuDiffusion.CLora.Interop;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;
using static IlgpuDiffusion.Tests.CLora.Interop.TinyModules;

namespace IlgpuDiffusion.Tests.CLora.Interop;

public sealed class LoraFileWriteTests : IDisposable
{
    private const string Conv1 = "mid_block.resnets.0.conv1";

    private static readonly LoraExportInfo Info = new("my-concepts", "clora", ["v1-dog", "v2-kid"]);

    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("idf-lora-write-");

    public void Dispose() => folder.Delete(recursive: true);

    private string PathOf(string name) => Path.Combine(folder.FullName, name);

    private static LoraLayerDelta[] Layers(int rank = 4) =>
    [
        new(LoraComponent.UNet, ToK, Random([rank, 32], 1), [rank, 32], Random([32, rank], 2), [32, rank]),
        new(LoraComponent.UNet, MidToV, Random([rank, 32], 3), [rank, 32], Random([64, rank], 4), [64, rank], alpha: 3),
        new(LoraComponent.UNet, Conv1, Random([rank, 64, 3, 3], 5), [rank, 64, 3, 3], Random([64, rank, 1, 1], 6), [64, rank, 1, 1], alpha: rank),
        new(LoraComponent.TextEncoder, TextQ, Random([rank, 32], 7), [rank, 32], Random([32, rank], 8), [32, rank], alpha: 0.5f),
    ];

    [Fact]
    public void Kohya_round_trip_gives_identical_factors_alphas_and_deltas()
    {
        var path = PathOf("clora.safetensors");
        var written = Layers();
        LoraFileWriter.SaveKohya(path, written, Info);
        var read = LoraFile.Read(path, Modules);

        Assert.Empty(read.Unmatched);
        Assert.Equal(LoraDialect.Kohya, Assert.Single(read.Dialects));
        Assert.Equal(written.Length, read.Layers.Count);
        foreach (var expected in written)
        {
            var actual = Assert.Single(read.Layers, l => l.Component == expected.Component && l.ModuleName == expected.ModuleName);
            Assert.Equal(expected.Down.ToArray(), actual.Down.ToArray());
            Assert.Equal(expected.Up.ToArray(), actual.Up.ToArray());
            Assert.Equal(expected.DownShape, actual.DownShape);
            Assert.Equal(expected.UpShape, actual.UpShape);
            Assert.Equal(expected.Alpha ?? expected.Rank, actual.Alpha);
            Assert.Equal(expected.Scale, actual.Scale);
            var reference = Product(expected.Up.Span, expected.Down.Span, expected.OutFeatures, expected.Rank, expected.Scale);
            Assert.True(Reference.RelativeError(actual.ComputeDelta(), reference) <= 1e-6, expected.ModuleName);
        }
    }

    [Fact]
    public void Kohya_file_has_flat_keys_scalar_alphas_and_kohya_metadata()
    {
        var path = PathOf("clora.safetensors");
        LoraFileWriter.SaveKohya(path, Layers(), Info);
        using var file = SafeTensorsReader.Open(path);

        var stem = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k";
        Assert.Equal([4, 32], file.GetInfo($"{stem}.lora_down.weight").Shape);
        Assert.Equal([32, 4], file.GetInfo($"{stem}.lora_up.weight").Shape);
        var alpha = file.GetInfo($"{stem}.alpha");
        Assert.Equal((SafeTensorsDType.F32, 0), (alpha.DType, alpha.Shape.Count));
        Assert.Equal([4f], file.ReadF32($"{stem}.alpha"));
        Assert.Equal([64, 4, 1, 1], file.GetInfo("lora_unet_mid_block_resnets_0_conv1.lora_up.weight").Shape);
        Assert.True(file.Contains("lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight"));
        Assert.Equal(12, file.Tensors.Count);
        Assert.Equal("networks.lora", file.Metadata["ss_network_module"]);
        Assert.Equal("4", file.Metadata["ss_network_dim"]);
        Assert.Equal("Dynamic", file.Metadata["ss_network_alpha"]);
        Assert.Equal("sd_v1", file.Metadata["ss_base_model_version"]);
        Assert.Equal("my-concepts", file.Metadata["ss_output_name"]);
        Assert.Equal("clora", file.Metadata["idf_method"]);
        Assert.Equal("""["v1-dog","v2-kid"]""", file.Metadata["idf_concepts"]);
    }

    [Fact]
    public void Kohya_metadata_states_the_common_alpha_and_dynamic_ranks()
    {
        LoraFileWriter.SaveKohya(PathOf("ranks.safetensors"), [Layers(2)[0], Layers(3)[3]], Info);
        LoraFileWriter.SaveKohya(PathOf("both.safetensors"), [Layers(2)[0], Layers(3)[2]], Info);
        LoraFileWriter.SaveKohya(PathOf("uniform.safetensors"), [Layers(3)[0], Layers(3)[2]], Info);
        Assert.Equal(("Dynamic", "Dynamic"), DimAndAlpha("both.safetensors"));
        Assert.Equal("Dynamic", DimAndAlpha("ranks.safetensors").Dim);
        Assert.Equal(("3", "3"), DimAndAlpha("uniform.safetensors"));
    }

    private (string Dim, string Alpha) DimAndAlpha(string name)
    {
        using var file = SafeTensorsReader.Open(PathOf(name));
        return (file.Metadata["ss_network_dim"], file.Metadata["ss_network_alpha"]);
    }

    [Fact]
    public void Diffusers_round_trip_folds_the_scale_into_up_and_keeps_every_delta()
    {
        var path = PathOf("pytorch_lora_weights.safetensors");
        var written = Layers();
        LoraFileWriter.SaveDiffusers(path, written, Info);
        using (var file = SafeTensorsReader.Open(path))
        {
            Assert.True(file.Contains($"unet.{ToK}.lora.down.weight"));
            Assert.True(file.Contains($"text_encoder.{TextQ}.lora.up.weight"));
            Assert.Equal(8, file.Tensors.Count);
        }
        var read = LoraFile.Read(path, Modules);
        Assert.Empty(read.Unmatched);
        Assert.Equal(LoraDialect.Diffusers, Assert.Single(read.Dialects));
        foreach (var expected in written)
        {
            var actual = Assert.Single(read.Layers, l => l.ModuleName == expected.ModuleName);
            Assert.Null(actual.Alpha);
            Assert.Equal(expected.Down.ToArray(), actual.Down.ToArray());
            var reference = Product(expected.Up.Span, expected.Down.Span, expected.OutFeatures, expected.Rank, expected.Scale);
            Assert.True(Reference.RelativeError(actual.ComputeDelta(), reference) <= 1e-6, expected.ModuleName);
        }
    }

    [Fact]
    public void CLora_tasks_concatenated_per_module_round_trip_as_the_sum_of_the_task_deltas()
    {
        var path = PathOf("library.safetensors");
        var tasks = new[] { Layers(2), Layers(3), Layers(4) };
        var joined = Enumerable.Range(0, tasks[0].Length).Select(i => LoraLayerDelta.Concatenate([.. tasks.Select(t => t[i])])).ToList();
        LoraFileWriter.SaveKohya(path, joined, Info, SafeTensorsDType.F32);
        var read = LoraFile.Read(path, Modules);
        foreach (var (layer, i) in read.Layers.Select((l, i) => (l, i)))
        {
            Assert.Equal(9, layer.Rank);
            Assert.Equal(1.0, layer.Scale);
            var parts = tasks.Select(t => t.Single(p => p.ModuleName == layer.ModuleName)).ToList();
            var expected = new double[layer.ComputeDelta().Length];
            foreach (var part in parts)
            {
                var delta = Product(part.Up.Span, part.Down.Span, part.OutFeatures, part.Rank, part.Scale);
                for (int j = 0; j < expected.Length; j++) expected[j] += delta[j];
            }
            Assert.True(Reference.RelativeError(layer.ComputeDelta(), expected) <= 1e-6, layer.ModuleName);
        }
    }

    [Fact]
    public void F16_factors_round_trip_rounded_once()
    {
        var path = PathOf("half.safetensors");
        var layer = Layers()[0];
        LoraFileWriter.SaveKohya(path, [layer], Info, SafeTensorsDType.F16);
        var read = Assert.Single(LoraFile.Read(path, Modules).Layers);
        Assert.Equal(layer.Down.ToArray().Select(v => (float)(Half)v), read.Down.ToArray());
        Assert.Equal(layer.Up.ToArray().Select(v => (float)(Half)v), read.Up.ToArray());
    }

    [Fact]
    public void A_module_given_twice_is_refused()
    {
        var layer = Layers()[0];
        var error = Assert.Throws<ArgumentException>(() => LoraFileWriter.SaveKohya(PathOf("twice.safetensors"), [layer, layer], Info));
        Assert.Contains($"'{ToK}' is given 2 times", error.Message);
        Assert.False(File.Exists(PathOf("twice.safetensors")));
    }
}
