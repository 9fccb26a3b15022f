using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Pipelines;

namespace IlgpuDiffusion.Tests.Support;

/// <summary>How the tiny fixture model is stored: the diffusers folder, or the single LDM file with the folder as its config.</summary>
public enum TinyLayout
{
    DiffusersFolder,
    SingleFile,
}

/// <summary>Opens the tiny SD fixture in either layout with f32 or f16 weights, and the parity bound for each.</summary>
public static class TinyModel
{
    private static readonly Lazy<StableDiffusionPipeline> pipeline = new(() => StableDiffusionPipeline.Load(new ModelSource(Folder), Devices.Portable));

    /// <summary>The folder's configs (the single file's text encoder heads cannot be inferred from its weights).</summary>
    public static string Folder => Fixtures.Path("tiny-sd");

    public static string SingleFile => Fixtures.Path("tiny-sd-single.safetensors");

    /// <summary>Every layout with f32 and f16 weights.</summary>
    public static TheoryData<TinyLayout, DType> Variants() => new()
    {
        { TinyLayout.DiffusersFolder, DType.F32 },
        { TinyLayout.DiffusersFolder, DType.F16 },
        { TinyLayout.SingleFile, DType.F32 },
        { TinyLayout.SingleFile, DType.F16 },
    };

    /// <summary>The diffusers folder loaded once per test run as an f32 pipeline on <see cref="Devices.Portable"/> (never disposed, like the device).</summary>
    public static StableDiffusionPipeline Pipeline => pipeline.Value;

    public static Checkpoint Open(TinyLayout layout, DType weights) => CheckpointLoader.Open(layout == TinyLayout.DiffusersFolder
        ? new ModelSource(Folder) { Weights = weights }
        : new ModelSource(SingleFile) { ConfigFolder = Folder, Weights = weights }, Devices.Portable);

    /// <summary>Model parity against the fixtures: 1e-4 relative with f32 weights, 5e-3 with f16 weights (the bounds).</summary>
    public static double Bound(DType weights) => weights == DType.F32 ? 1e-4 : 5e-3;
}
