using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Vae;
using Checkpoint = IlgpuDiffusion.Model.Loading.Checkpoint;

namespace IlgpuDiffusion.Cli.Forward;

/// <summary><c>vae-encode</c>: image [N, C, H, W] → posterior_mean and posterior_logvar [N, latent, H/f, W/f] (unscaled; f = 8 for SD).</summary>
internal sealed class VaeEncodeRunner : IForwardRunner
{
    public string Summary => "vae-encode: image [N, C, H, W] in [−1, 1] → posterior_mean, posterior_logvar";

    public IReadOnlyDictionary<string, Tensor> Run(Checkpoint checkpoint, ForwardInputs inputs)
    {
        using var image = Var.Constant(inputs.ReadImage("image", checkpoint.Config.Vae.InChannels));
        using var vae = new AutoencoderKL(checkpoint.Config.Vae, checkpoint.Vae);
        checkpoint.Vae.Complete();
        var (mean, logVar) = vae.Encode(image);
        using (mean)
        using (logVar)
            return new Dictionary<string, Tensor>
            {
                ["posterior_mean"] = Layout.NhwcToNchw(mean.Value),
                ["posterior_logvar"] = Layout.NhwcToNchw(logVar.Value),
            };
    }
}
