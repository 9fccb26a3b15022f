using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Images;
using IlgpuDiffusion.Model.Vae;

namespace IlgpuDiffusion.Model.Pipelines;

/// <summary>
/// The init image of an image-to-image run, encoded once: resized and centre-cropped to the output size, scaled to
/// [−1, 1] (diffusers' preprocessing), and VAE-encoded to its posterior (in tiles when a <see cref="VaeTiling"/> is given).
/// Each image of a batch then draws its own posterior sample from its seed, times the scaling factor (diffusers'
/// <c>latent_dist.sample(generator) · scaling_factor</c>).
/// </summary>
internal sealed class InitImageLatents : IDisposable
{
    private readonly Var mean, logVar;
    private readonly float scaling;

    public InitImageLatents(AutoencoderKL vae, RgbImage image, GenerationPlan plan, Device device, VaeTiling? tiling)
    {
        var fitted = image.Width == plan.Width && image.Height == plan.Height ? image : image.ResizeAndCenterCrop(plan.Width, plan.Height);
        var pixels = new HostTensor(ImageTensor.ToNchw(fitted), 1, 3, plan.Height, plan.Width);
        var (hostMean, hostLogVar) = VaeCodec.Encode(vae, pixels, device, tiling);
        mean = Upload(hostMean, device);
        try
        {
            logVar = Upload(hostLogVar, device);
        }
        catch
        {
            mean.Dispose();
            throw;
        }
        scaling = (float)vae.Config.ScalingFactor;
    }

    /// <summary>One posterior sample per seed, × scaling factor, NCHW and concatenated.</summary>
    public float[] Sample(IReadOnlyList<long> seeds)
    {
        var samples = new List<float>();
        foreach (var seed in seeds)
        {
            using var sample = AutoencoderKL.Sample(mean, logVar, (ulong)seed, BatchNoise.Posterior);
            using var nchw = Layout.NhwcToNchw(sample.Value);
            samples.AddRange(nchw.ToFloatArray().Select(v => scaling * v));
        }
        return [.. samples];
    }

    public void Dispose()
    {
        mean.Dispose();
        logVar.Dispose();
    }

    private static Var Upload(HostTensor nchw, Device device)
    {
        using var tensor = Tensor.FromHost(device, nchw.Values, [.. nchw.Shape]);
        return Var.Constant(Layout.NchwToNhwc(tensor));
    }
}
