using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.UNet;
using Checkpoint = IlgpuDiffusion.Model.Loading.Checkpoint;

namespace IlgpuDiffusion.Cli.Forward;

/// <summary>
/// <c>unet</c>: sample [N, C, h, w], timesteps [N] or [1] (integers, or floats for fractional timesteps) and
/// encoder_hidden_states [N, L, C_text] → noise_pred [N, C_out, h, w], as diffusers' UNet2DConditionModel.
/// </summary>
internal sealed class UNetRunner : IForwardRunner
{
    public string Summary => "unet: sample [N, C, h, w], timesteps [N] or [1], encoder_hidden_states [N, L, C] → noise_pred";

    public IReadOnlyDictionary<string, Tensor> Run(Checkpoint checkpoint, ForwardInputs inputs)
    {
        var config = checkpoint.Config.UNet;
        using var sample = Var.Constant(inputs.ReadImage("sample", config.InChannels));
        using var timesteps = inputs.Read("timesteps", inputs.HoldsFloats("timesteps") ? DType.F32 : DType.I32, "N");
        using var context = Var.Constant(inputs.Read("encoder_hidden_states", DType.F32, "N", "L", "C"));
        using var unet = UNet2DCondition.Load(checkpoint);
        using var prediction = unet.Forward(sample, timesteps, context);
        return new Dictionary<string, Tensor> { ["noise_pred"] = Layout.NhwcToNchw(prediction.Value) };
    }
}
