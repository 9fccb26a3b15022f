using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Vae;

namespace IlgpuDiffusion.Model.Pipelines;

/// <summary>
/// The VAE on host NCHW tensors, whole or in tiles (<see cref="VaeTiling"/>): a tiled call keeps only one tile's
/// activations on the device at a time, so a large image needs about a tile's activation memory instead of the image's.
/// <code>
/// var image = VaeCodec.Decode(vae, latents, device, new VaeTiling(64));   // latents / scaling_factor, [N, 4, h, w]
/// </code>
/// </summary>
public static class VaeCodec
{
    /// <summary>
    /// <c>vae.decode(latents)</c>: unscaled NCHW latents <c>[N, latent channels, h, w]</c> → the raw image <c>[N, out channels, h·f, w·f]</c>,
    /// in tiles when <paramref name="tiling"/> is given and the latents are larger than one tile (diffusers' <c>tiled_decode</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The latents are not NCHW with the VAE's latent channels.</exception>
    public static HostTensor Decode(AutoencoderKL vae, HostTensor latents, Device device, VaeTiling? tiling = null)
    {
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(device);
        RequireNchw(latents, vae.Config.LatentChannels, nameof(latents));
        if (!NeedsTiles(latents, tiling, 1)) return OnDevice(latents, device, vae.Decode);
        int factor = VaeTiling.ScaleFactor(vae.Config), tile = tiling!.LatentTileSize, stride = tiling.LatentStride;
        return TileBlender.Run(latents, tile, stride, (tile - stride) * factor, stride * factor, t => OnDevice(t, device, vae.Decode));
    }

    /// <summary>
    /// <c>vae.encode(images)</c>: NCHW images in [−1, 1] <c>[N, in channels, H, W]</c> (multiples of the scale factor) → the
    /// posterior's mean and clamped log-variance, each <c>[N, latent channels, H/f, W/f]</c>, in tiles when
    /// <paramref name="tiling"/> is given and the image is larger than one tile (diffusers' <c>tiled_encode</c>; the
    /// log-variance is clamped per tile before blending, which differs from diffusers only where it exceeds [−30, 20]).
    /// </summary>
    /// <exception cref="ArgumentException">The images are not NCHW with the VAE's input channels, or not a multiple of the scale factor.</exception>
    public static (HostTensor Mean, HostTensor LogVar) Encode(AutoencoderKL vae, HostTensor images, Device device, VaeTiling? tiling = null)
    {
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(device);
        RequireNchw(images, vae.Config.InChannels, nameof(images));
        int factor = VaeTiling.ScaleFactor(vae.Config);
        if (images.Shape[2] % factor != 0 || images.Shape[3] % factor != 0)
            throw new ArgumentException($"images {images}: height and width must be multiples of the VAE's scale factor {factor}.", nameof(images));
        var moments = !NeedsTiles(images, tiling, factor)
            ? OnDevice(images, device, Moments(vae))
            : TileBlender.Run(images, tiling!.LatentTileSize * factor, tiling.LatentStride * factor,
                tiling.LatentTileSize - tiling.LatentStride, tiling.LatentStride, t => OnDevice(t, device, Moments(vae)));
        return SplitChannels(moments, vae.Config.LatentChannels);
    }

    private static bool NeedsTiles(HostTensor input, VaeTiling? tiling, int factor) =>
        tiling is not null && (input.Shape[2] > tiling.LatentTileSize * factor || input.Shape[3] > tiling.LatentTileSize * factor);

    /// <summary>Uploads NCHW <paramref name="input"/>, runs <paramref name="network"/> channels-last, and downloads its NCHW output.</summary>
    private static HostTensor OnDevice(HostTensor input, Device device, Func<Var, Var> network)
    {
        using var noGrad = Grad.NoGrad();
        using var nchw = Tensor.FromHost(device, input.Values, [.. input.Shape]);
        using var x = Var.Constant(Layout.NchwToNhwc(nchw));
        using var y = network(x);
        using var output = Layout.NhwcToNchw(y.Value);
        return new HostTensor(output.ToFloatArray(), output.Shape.ToArray());
    }

    /// <summary>The encoder's mean and log-variance concatenated along channels (the blended "moments").</summary>
    private static Func<Var, Var> Moments(AutoencoderKL vae) => image =>
    {
        var (mean, logVar) = vae.Encode(image);
        using (mean)
        using (logVar)
            return Ops.ConcatLastAxis(mean, logVar);
    };

    private static (HostTensor, HostTensor) SplitChannels(HostTensor moments, int channels)
    {
        int n = moments.Shape[0], plane = moments.Shape[2] * moments.Shape[3];
        var mean = new float[n * channels * plane];
        var logVar = new float[n * channels * plane];
        for (int i = 0; i < n; i++)
        {
            moments.Values.AsSpan(i * 2 * channels * plane, channels * plane).CopyTo(mean.AsSpan(i * channels * plane));
            moments.Values.AsSpan((i * 2 + 1) * channels * plane, channels * plane).CopyTo(logVar.AsSpan(i * channels * plane));
        }
        return (new HostTensor(mean, n, channels, moments.Shape[2], moments.Shape[3]),
            new HostTensor(logVar, n, channels, moments.Shape[2], moments.Shape[3]));
    }

    private static void RequireNchw(HostTensor x, int channels, string name)
    {
        ArgumentNullException.ThrowIfNull(x, name);
        if (x.Shape.Count != 4 || x.Shape[1] != channels)
            throw new ArgumentException($"{name} is {x}; expected NCHW [N, {channels}, H, W].", name);
    }
}
