using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.Model.Vae;

/// <summary>
/// diffusers' AutoencoderKL built from a <see cref="VaeConfig"/> (any widths, levels, layers per block): the
/// <see cref="Encoder"/> and quant_conv give the diagonal Gaussian posterior of a latent, post_quant_conv and the
/// <see cref="Decoder"/> turn a latent back into an image. Images and latents are channels-last ([N, H, W, C]).
/// No scaling factor is applied here: the pipeline multiplies encoded latents by
/// <see cref="VaeConfig.ScalingFactor"/> and divides by it before decoding.
/// <code>
/// using var vae = new AutoencoderKL(checkpoint.Config.Vae, checkpoint.Vae);
/// checkpoint.Vae.Complete();
/// var (mean, logVar) = vae.Encode(image);          // image in [−1, 1]
/// using var latent = AutoencoderKL.Sample(mean, logVar, seed);
/// using var decoded = vae.Decode(latent);
/// </code>
/// </summary>
public sealed class AutoencoderKL : Module
{
    /// <summary>The epsilon of every group norm in diffusers' VAE.</summary>
    public const float NormEps = 1e-6f;

    /// <summary>diffusers' DiagonalGaussianDistribution clamps the log-variance to [−30, 20].</summary>
    public const float MinLogVar = -30f, MaxLogVar = 20f;

    private readonly LinearLayer quantConv, postQuantConv;

    /// <summary>Takes the VAE's weights from <paramref name="weights"/>; the caller then calls <see cref="WeightSet.Complete"/>.</summary>
    public AutoencoderKL(VaeConfig config, WeightSet weights)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        if (config.ActFn != "silu")
            throw new NotSupportedException($"VAE act_fn '{config.ActFn}' is not supported (diffusers' SD VAEs use silu).");
        Config = config;
        int moments = 2 * config.LatentChannels;
        Encoder = AddChild(new VaeEncoder(config, weights));
        quantConv = AddChild(LinearLayer.FromConv1x1(weights, "quant_conv", moments, moments));
        postQuantConv = AddChild(LinearLayer.FromConv1x1(weights, "post_quant_conv", config.LatentChannels, config.LatentChannels));
        Decoder = AddChild(new VaeDecoder(config, weights));
    }

    public VaeConfig Config { get; }

    public VaeEncoder Encoder { get; }

    public VaeDecoder Decoder { get; }

    /// <summary>
    /// image [N, H, W, Cin] (H and W multiples of 2^(levels − 1)) → the posterior's mean and log-variance, each
    /// [N, H/f, W/f, latent channels]; the log-variance is clamped to [<see cref="MinLogVar"/>, <see cref="MaxLogVar"/>].
    /// The caller owns both.
    /// </summary>
    public (Var Mean, Var LogVar) Encode(Var image)
    {
        ArgumentNullException.ThrowIfNull(image);
        RequireChannelsLast(image, Config.InChannels, "image");
        int latent = Config.LatentChannels;
        Var moments;
        using (var features = Encoder.Forward(image)) moments = quantConv.Forward(features);
        using (moments)
        {
            var mean = Ops.SliceLastAxis(moments, 0, latent);
            try
            {
                using var raw = Ops.SliceLastAxis(moments, latent, latent);
                return (mean, Ops.Clamp(raw, MinLogVar, MaxLogVar));
            }
            catch
            {
                mean.Dispose();
                throw;
            }
        }
    }

    /// <summary>latent [N, h, w, latent channels] (unscaled) → image [N, h·f, w·f, Cout], f = 2^(levels − 1).</summary>
    public Var Decode(Var latent)
    {
        ArgumentNullException.ThrowIfNull(latent);
        RequireChannelsLast(latent, Config.LatentChannels, "latent");
        using var z = postQuantConv.Forward(latent);
        return Decoder.Forward(z);
    }

    /// <summary>The posterior's standard deviation exp(½·logvar).</summary>
    public static Var Std(Var logVar) => Ops.Exp(logVar, 0.5f);

    /// <summary>
    /// A latent drawn from the posterior, mean + exp(½·logvar) ⊙ ε, with ε standard normal from
    /// <see cref="Philox.Normal"/>(<paramref name="seed"/>, <paramref name="offset"/>): the same latent for a seed on
    /// every device. Differentiable in mean and logvar (the reparameterization trick).
    /// </summary>
    public static Var Sample(Var mean, Var logVar, ulong seed, ulong offset = 0)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(logVar);
        if (!mean.Shape.Equals(logVar.Shape))
            throw new ArgumentException($"posterior mean {mean.Shape} and log-variance {logVar.Shape} differ in shape.", nameof(logVar));
        var noise = Tensor.Empty(mean.Device, DType.F32, mean.Shape.ToArray());
        using var epsilon = Var.Constant(noise);
        Philox.Normal(noise, seed, offset);
        using var std = Std(logVar);
        using var spread = Ops.Mul(std, epsilon);
        return Ops.Add(mean, spread);
    }

    private static void RequireChannelsLast(Var x, int channels, string name)
    {
        if (x.Shape.Rank != 4 || x.Shape[3] != channels)
            throw new ArgumentException($"{name} is {x.Shape}; expected channels-last [N, H, W, {channels}].", name);
    }
}
