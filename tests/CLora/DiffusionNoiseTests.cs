using IlgpuDiffusion.CLora;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Model.Schedulers;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.CLora;

/// <summary>The device add_noise against the host one and diffusers, and the min-SNR weights.</summary>
public sealed class DiffusionNoiseTests
{
    private readonly Device device = Devices.Portable;
    private static readonly NoiseSchedule Schedule = new(SchedulerConfig.Load(Fixtures.Path("tiny-sd", "scheduler", "scheduler_config.json")));

    [Fact]
    public void Add_noise_on_the_device_gives_the_host_schedulers_bits_and_diffusers_values()
    {
        using var reference = SafeTensorsReader.Open(Fixtures.Path("reference", "lora_grad_f32.safetensors"));
        var timesteps = reference.ReadI32("timesteps");
        using var x0 = reference.ReadTensor(device, "x0");
        using var noise = reference.ReadTensor(device, "noise");
        // The op scales whole samples, so NCHW samples flattened to [N, C·H·W] give the values of any layout.
        using var x0Flat = x0.Reshape(2, 4 * 8 * 8);
        using var noiseFlat = noise.Reshape(2, 4 * 8 * 8);
        using var noisy = DiffusionNoise.AddNoise(Schedule, x0Flat, noiseFlat, timesteps);
        Assert.Equal(Schedule.AddNoise(x0.ToFloatArray(), noise.ToFloatArray(), timesteps), noisy.ToFloatArray());
        Assert.True(Reference.RelativeError(noisy.ToFloatArray(), reference.ReadF32("noisy_latents")) <= 1e-6);
        Assert.Throws<ArgumentException>(() => DiffusionNoise.AddNoise(Schedule, x0Flat, noiseFlat, [500, 1000]));
        Assert.Throws<ArgumentException>(() => DiffusionNoise.AddNoise(Schedule, x0Flat, noiseFlat, [500]));
    }

    [Fact]
    public void Min_snr_weights_are_min_of_snr_and_gamma_over_snr()
    {
        var weights = DiffusionNoise.MinSnrWeights(Schedule, [0, 500, 999], 5f);
        for (int k = 0; k < 3; k++)
        {
            double a = Schedule.AlphasCumprod[new[] { 0, 500, 999 }[k]], snr = a / (1 - a);
            Assert.Equal(Math.Min(snr, 5) / snr, weights[k], 1e-6);
        }
        Assert.True(weights[0] < 1f && weights[2] == 1f); // t = 0 is nearly clean (SNR ≫ γ), t = 999 nearly pure noise
    }
}
