using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Vae;
using Checkpoint = IlgpuDiffusion.Model.Loading.Checkpoint;

namespace IlgpuDiffusion.Cli.Forward;

/// <summary><c>vae-decode</c>: latent [N, latent, h, w] (unscaled, as the VAE takes it) → decoded [N, C, h·f, w·f] (f = 8 for SD).</summary>
internal sealed class VaeDecodeRunner : IForwardRunner
{
    public string Summary => "vae-decode: latent [N, C, h, w] (no 1/scaling_factor applied) → decoded";

    public IReadOnlyDictionary<string, Tensor> Run(Checkpoint checkpoint, ForwardInputs inputs)
    {
        using var latent = Var.Constant(inputs.ReadImage("latent", checkpoint.Config.Vae.LatentChannels));
        using var vae = new AutoencoderKL(checkpoint.Config.Vae, checkpoint.Vae);
        checkpoint.Vae.Complete();
        using var decoded = vae.Decode(latent);
        return new Dictionary<string, Tensor> { ["decoded"] = Layout.NhwcToNchw(decoded.Value) };
    }
}
