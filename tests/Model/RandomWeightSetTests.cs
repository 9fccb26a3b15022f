using IlgpuDiffusion.CLora.Benchmarking;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Model.UNet;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Model;

/// <summary><see cref="WeightSet.Random"/>: the values' scale and determinism, F16 as the rounding of F32, and a whole model built from it.</summary>
public sealed class RandomWeightSetTests
{
    [Fact]
    public void Matrices_are_normal_with_variance_one_over_fan_in_and_norms_are_one_and_zero()
    {
        var set = WeightSet.Random("unet", Devices.Portable, DType.F32, seed: 5);
        float[] conv;
        using (var t = set.Take("down_blocks.0.resnets.0.conv1.weight", [64, 32, 3, 3])) conv = t.ToFloatArray();
        double mean = conv.Average(v => (double)v), variance = conv.Average(v => (v - mean) * (v - mean));
        double expected = 1.0 / (32 * 9), fourth = conv.Average(v => Math.Pow(v - mean, 4)) / (variance * variance);
        Assert.True(Math.Abs(mean) < 4 * Math.Sqrt(expected / conv.Length), $"mean {mean}");
        Assert.True(Math.Abs(variance / expected - 1) < 0.05, $"variance {variance}, expected {expected}");
        Assert.True(Math.Abs(fourth - 3) < 0.2, $"kurtosis {fourth}, a normal has 3");
        using (var scale = set.Take("conv_norm_out.weight", [32])) Assert.All(scale.ToFloatArray(), v => Assert.Equal(1f, v));
        using (var bias = set.Take("conv_norm_out.bias", [32])) Assert.All(bias.ToFloatArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void The_same_seed_and_name_give_the_same_values_and_f16_is_their_rounding()
    {
        float[] Take(ulong seed, string name)
        {
            using var t = WeightSet.Random("vae", Devices.Portable, DType.F32, seed).Take(name, [16, 24]);
            return t.ToFloatArray();
        }
        var a = Take(1, "x.weight");
        Assert.Equal(a, Take(1, "x.weight"));
        Assert.NotEqual(a, Take(2, "x.weight"));
        Assert.NotEqual(a, Take(1, "y.weight"));
        using var half = WeightSet.Random("vae", Devices.Portable, DType.F16, 1).Take("x.weight", [16, 24]);
        Assert.Equal(DType.F16, half.DType);
        Assert.Equal(a.Select(v => (System.Half)v), half.ToHalfArray());
    }

    [Fact]
    public void A_unet_built_from_a_random_set_has_the_fixture_models_parameters_with_the_sets_values()
    {
        var set = WeightSet.Random("unet", Devices.Portable, DType.F32, seed: 3);
        using var unet = new UNet2DCondition(BenchmarkModel.TinyConfig.UNet, set);
        using var file = SafeTensorsReader.Open(Fixtures.Path("tiny-sd", "unet", "diffusion_pytorch_model.safetensors"));
        var parameters = unet.NamedParameters().ToDictionary(p => p.Name, p => p.Value);
        Assert.Equal(file.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal), parameters.Keys.Order(StringComparer.Ordinal));
        const string linear = "time_embedding.linear_1.weight";
        using var again = WeightSet.Random("unet", Devices.Portable, DType.F32, seed: 3).Take(linear, [128, 32]);
        Assert.Equal(again.ToFloatArray(), parameters[linear].Value.ToFloatArray());
    }
}
