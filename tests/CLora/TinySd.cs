using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Schedulers;
using IlgpuDiffusion.Model.Text;
using IlgpuDiffusion.Model.TextEncoder;
using IlgpuDiffusion.Model.UNet;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.CLora;

/// <summary>
/// The tiny SD fixture's text encoder, tokenizer and training noise schedule, and its UNet, built on first use (tests
/// of the text side never pay for it).
/// </summary>
internal sealed class TinySd : IDisposable
{
    private readonly Checkpoint checkpoint;
    private readonly Lazy<UNet2DCondition> unet;

    public TinySd(DType weights = DType.F32)
    {
        checkpoint = TinyModel.Open(TinyLayout.DiffusersFolder, weights);
        unet = new(() => UNet2DCondition.Load(checkpoint));
        TextEncoder = new ClipTextEncoder(checkpoint.Config.TextEncoder, checkpoint.TextEncoder);
        checkpoint.TextEncoder.Complete();
        Tokenizer = checkpoint.LoadTokenizer();
        Schedule = new NoiseSchedule(SchedulerConfig.Load(checkpoint.Config.SchedulerConfigPath!));
    }

    public UNet2DCondition UNet => unet.Value;

    public ClipTextEncoder TextEncoder { get; }

    public ClipTokenizer Tokenizer { get; }

    public NoiseSchedule Schedule { get; }

    public void Dispose()
    {
        if (unet.IsValueCreated) unet.Value.Dispose();
        TextEncoder.Dispose();
        checkpoint.Dispose();
    }
}
