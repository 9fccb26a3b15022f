using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Model.Vae;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Model;

/// <summary>AutoencoderKL against diffusers 0.21.4 on the tiny fixture (reference/vae.safetensors), NCHW converted at the boundary.</summary>
public sealed class VaeParityTests(ITestOutputHelper output) : IDisposable
{
    private readonly SafeTensorsReader reference = SafeTensorsReader.Open(Fixtures.Path("reference", "vae.safetensors"));

    public void Dispose() => reference.Dispose();

    [Theory]
    [MemberData(nameof(TinyModel.Variants), MemberType = typeof(TinyModel))]
    public void Encode_matches_diffusers_posterior(TinyLayout layout, DType weights)
    {
        using var checkpoint = TinyModel.Open(layout, weights);
        using var vae = new AutoencoderKL(checkpoint.Config.Vae, checkpoint.Vae);
        checkpoint.Vae.Complete();
        using var _ = Grad.NoGrad();
        using var image = Var.Constant(ReadNhwc("image"));
        var (mean, logVar) = vae.Encode(image);
        using (mean)
        using (logVar)
        using (var std = AutoencoderKL.Std(logVar))
        {
            double meanError = ErrorNchw(mean, "posterior_mean"), logVarError = ErrorNchw(logVar, "posterior_logvar"), stdError = ErrorNchw(std, "posterior_std");
            output.WriteLine($"{layout}, {weights} weights: posterior_mean rel error {meanError:E2}, posterior_logvar {logVarError:E2}, " +
                $"posterior_std {stdError:E2} (bound {TinyModel.Bound(weights):E0})");
            Assert.True(meanError <= TinyModel.Bound(weights), $"posterior_mean rel error {meanError}");
            Assert.True(logVarError <= TinyModel.Bound(weights), $"posterior_logvar rel error {logVarError}");
            Assert.True(stdError <= TinyModel.Bound(weights), $"posterior_std rel error {stdError}");
        }
    }

    [Theory]
    [MemberData(nameof(TinyModel.Variants), MemberType = typeof(TinyModel))]
    public void Decode_matches_diffusers(TinyLayout layout, DType weights)
    {
        using var checkpoint = TinyModel.Open(layout, weights);
        using var vae = new AutoencoderKL(checkpoint.Config.Vae, checkpoint.Vae);
        checkpoint.Vae.Complete();
        using var _ = Grad.NoGrad();
        using var latent = Var.Constant(ReadNhwc("latent"));
        using var decoded = vae.Decode(latent);
        Assert.Equal([1, 64, 64, 3], decoded.Shape.ToArray());
        double error = ErrorNchw(decoded, "decoded");
        output.WriteLine($"{layout}, {weights} weights: decoded rel error {error:E2} (bound {TinyModel.Bound(weights):E0})");
        Assert.True(error <= TinyModel.Bound(weights), $"decoded rel error {error}");
    }

    [Fact]
    public void Sample_is_mean_plus_std_times_philox_noise_and_depends_only_on_the_seed()
    {
        var device = Devices.Portable;
        using var _ = Grad.NoGrad();
        using var mean = Var.Constant(ReadNhwc("posterior_mean"));
        using var logVar = Var.Constant(ReadNhwc("posterior_logvar"));
        using var first = AutoencoderKL.Sample(mean, logVar, seed: 42);
        using var again = AutoencoderKL.Sample(mean, logVar, seed: 42);
        using var other = AutoencoderKL.Sample(mean, logVar, seed: 43);
        using var noise = Tensor.Empty(device, DType.F32, mean.Shape.ToArray());
        Philox.Normal(noise, 42);

        var (m, lv, eps) = (mean.Value.ToFloatArray(), logVar.Value.ToFloatArray(), noise.ToFloatArray());
        var expected = m.Select((v, i) => v + Math.Exp(0.5 * lv[i]) * eps[i]).ToArray();
        double error = Reference.RelativeError(first.Value.ToFloatArray(), expected);
        output.WriteLine($"sample vs float64 mean + exp(logvar/2)·ε: rel error {error:E2}");
        Assert.True(error <= 1e-6, $"rel error {error}");
        Assert.Equal(first.Value.ToFloatArray(), again.Value.ToFloatArray());
        Assert.NotEqual(first.Value.ToFloatArray(), other.Value.ToFloatArray());
    }

    [Fact]
    public void Refuses_channels_first_input()
    {
        using var checkpoint = TinyModel.Open(TinyLayout.DiffusersFolder, DType.F32);
        using var vae = new AutoencoderKL(checkpoint.Config.Vae, checkpoint.Vae);
        using var latent = Var.Constant(reference.ReadTensor(Devices.Portable, "latent")); // NCHW [1, 4, 8, 8]
        Assert.Contains("channels-last", Assert.Throws<ArgumentException>(() => vae.Decode(latent)).Message);
    }

    private Tensor ReadNhwc(string name)
    {
        using var nchw = reference.ReadTensor(Devices.Portable, name);
        return Layout.NchwToNhwc(nchw);
    }

    private double ErrorNchw(Var nhwc, string name)
    {
        using var nchw = Layout.NhwcToNchw(nhwc.Value);
        Assert.Equal(reference.GetInfo(name).Shape, nchw.Shape.ToArray());
        return Reference.RelativeError(nchw.ToFloatArray(), reference.ReadF32(name));
    }
}
