using IlgpuDiffusion.Model.Images;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Evaluation;

/// <summary>Paths and readers for ../shared/fixtures/eval (tiny CLIP and DINO, reference outputs).</summary>
internal static class EvalFixtures
{
    public static string Clip => Fixtures.Path("eval", "tiny-clip");

    public static string Dino => Fixtures.Path("eval", "tiny-dino");

    public static SafeTensorsReader Preprocess() => SafeTensorsReader.Open(Fixtures.Path("eval", "reference", "preprocess.safetensors"));

    public static SafeTensorsReader Eval() => SafeTensorsReader.Open(Fixtures.Path("eval", "reference", "eval.safetensors"));

    /// <summary>An HWC uint8-valued F32 tensor of <paramref name="file"/> as an image.</summary>
    public static RgbImage Image(SafeTensorsReader file, string name)
    {
        var shape = file.GetInfo(name).Shape;
        var values = file.ReadF32(name);
        var bytes = new byte[values.Length];
        for (int i = 0; i < values.Length; i++) bytes[i] = checked((byte)values[i]);
        return new RgbImage(shape[1], shape[0], bytes);
    }

    /// <summary>The raw images raw_0, raw_1.</summary>
    public static RgbImage[] RawImages(SafeTensorsReader file) => [Image(file, "raw_0"), Image(file, "raw_1")];
}

/// <summary>The tiny CLIP and DINO models, loaded once per test class that uses them (loading CLIP reads a 49408-token vocabulary).</summary>
public sealed class EvalModels : IDisposable
{
    private readonly Lazy<IlgpuDiffusion.Evaluation.Extractors.ClipModel> clip =
        new(() => IlgpuDiffusion.Evaluation.Extractors.ClipModel.Load(EvalFixtures.Clip, Devices.Portable));

    private readonly Lazy<IlgpuDiffusion.Evaluation.Extractors.DinoModel> dino =
        new(() => IlgpuDiffusion.Evaluation.Extractors.DinoModel.Load(EvalFixtures.Dino, Devices.Portable));

    public IlgpuDiffusion.Evaluation.Extractors.ClipModel Clip => clip.Value;

    public IlgpuDiffusion.Evaluation.Extractors.DinoModel Dino => dino.Value;

    public void Dispose()
    {
        if (clip.IsValueCreated) clip.Value.Dispose();
        if (dino.IsValueCreated) dino.Value.Dispose();
    }
}
