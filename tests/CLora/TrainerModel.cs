using IlgpuDiffusion.CLora;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Images;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Schedulers;
using IlgpuDiffusion.Model.Text;
using IlgpuDiffusion.Model.TextEncoder;
using IlgpuDiffusion.Model.UNet;
using IlgpuDiffusion.Model.Vae;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.CLora;

/// <summary>A fresh tiny fixture model (f32) set up for training one concept, <c>&lt;thing&gt;</c>, drawn with seed 7.</summary>
internal sealed class TrainerModel : IDisposable
{
    public const string TokenText = "<thing>";

    private readonly Checkpoint checkpoint = TinyModel.Open(TinyLayout.DiffusersFolder, DType.F32);

    public TrainerModel()
    {
        UNet = UNet2DCondition.Load(checkpoint);
        TextEncoder = new ClipTextEncoder(checkpoint.Config.TextEncoder, checkpoint.TextEncoder);
        Vae = new AutoencoderKL(checkpoint.Config.Vae, checkpoint.Vae);
        Tokenizer = checkpoint.LoadTokenizer();
        Tokens = new ConceptTokens(Tokenizer, TextEncoder);
        Token = Tokens.Add(TokenText, seed: 7);
        Schedule = new NoiseSchedule(SchedulerConfig.Load(checkpoint.Config.SchedulerConfigPath!));
    }

    public UNet2DCondition UNet { get; }
    public ClipTextEncoder TextEncoder { get; }
    public AutoencoderKL Vae { get; }
    public ClipTokenizer Tokenizer { get; }
    public ConceptTokens Tokens { get; }
    public ConceptToken Token { get; }
    public PastDeltas Past { get; } = new();
    public NoiseSchedule Schedule { get; }

    /// <summary>Writes <paramref name="count"/> 32×32 gradient PNGs of different hues into a new temp folder.</summary>
    public static string ImageFolder(int count)
    {
        string folder = Directory.CreateTempSubdirectory("clora-trainer-").FullName;
        for (int k = 0; k < count; k++)
        {
            var pixels = new byte[32 * 32 * 3];
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                {
                    int i = 3 * (32 * y + x);
                    (pixels[i], pixels[i + 1], pixels[i + 2]) = ((byte)(8 * x), (byte)(8 * y), (byte)(80 * k));
                }
            PngWriter.Save(Path.Combine(folder, $"img{k}.png"), new RgbImage(32, 32, pixels));
        }
        return folder;
    }

    public void Dispose()
    {
        Tokens.Dispose();
        Past.Dispose();
        UNet.Dispose();
        TextEncoder.Dispose();
        Vae.Dispose();
        checkpoint.Dispose();
    }
}
