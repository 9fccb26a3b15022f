using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.TextEncoder;

namespace IlgpuDiffusion.Model.Pipelines;

/// <summary>
/// The pipeline's text encoder, which can give its device weights back after the prompts are encoded and loads them
/// again from the checkpoint (<see cref="ModelSource"/>, same weight dtype) the next time it is needed.
/// </summary>
internal sealed class ReloadableTextEncoder(ClipTextEncoder loaded, ModelSource source, ClipTextConfig config, Device device) : IDisposable
{
    private ClipTextEncoder? encoder = loaded;

    /// <summary>Whether the weights are on the device now.</summary>
    public bool IsLoaded => encoder is not null;

    /// <summary>The encoder, loaded again first when it was released.</summary>
    /// <exception cref="WeightsMismatchException">The checkpoint changed since the pipeline was loaded.</exception>
    public ClipTextEncoder Current => encoder ??= Reload();

    /// <summary>Frees the encoder's device weights (they return to the allocator's cache; trim it to give them to the device).</summary>
    public void Release()
    {
        encoder?.Dispose();
        encoder = null;
    }

    public void Dispose() => Release();

    private ClipTextEncoder Reload()
    {
        using var checkpoint = CheckpointLoader.Open(source, device);
        var reloaded = new ClipTextEncoder(config, checkpoint.TextEncoder);
        var report = checkpoint.TextEncoder.Report();
        if (report.IsClean) return reloaded;
        reloaded.Dispose();
        throw new WeightsMismatchException([report]);
    }
}
