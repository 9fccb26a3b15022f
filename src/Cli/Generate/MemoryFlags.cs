using System.CommandLine;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.Pipelines;
using IlgpuDiffusion.Model.Vae;

namespace IlgpuDiffusion.Cli.Generate;

/// <summary>The options of <c>generate</c> that make up its <see cref="MemoryOptions"/>.</summary>
internal sealed class MemoryFlags
{
    public Option<bool> LowMemory { get; } = new("--low-memory")
    {
        Description = "Free the text encoder after encoding the prompts (reloaded on the next run) and decode large images in VAE tiles.",
    };

    public Option<bool> VaeTiling { get; } = new("--vae-tiling")
    {
        Description = "Decode (and encode) images larger than one tile in overlapping, blended tiles (diffusers' enable_tiling).",
    };

    public Option<int?> VaeTileSize { get; } = new("--vae-tile-size")
    {
        HelpName = "PIXELS",
        Description = "The VAE tile's side in pixels, a multiple of 32 (default: the VAE's sample_size, 512 for SD 1.5); implies --vae-tiling.",
    };

    /// <summary>Adds every option to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { LowMemory, VaeTiling, VaeTileSize }) command.Options.Add(option);
    }

    /// <summary>The memory options the parsed flags describe for a model whose VAE is <paramref name="vae"/>.</summary>
    /// <exception cref="ArgumentException">A --vae-tile-size that makes no valid tiling.</exception>
    public MemoryOptions For(ParseResult parse, VaeConfig vae)
    {
        VaeTiling? tiling = null;
        if (parse.GetValue(VaeTileSize) is { } pixels)
        {
            try
            {
                tiling = Model.Vae.VaeTiling.FromPixels(pixels, vae);
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new ArgumentException($"--vae-tile-size {pixels}: {e.Message.Split(" (Parameter")[0]}", e);
            }
        }
        else if (parse.GetValue(VaeTiling) || parse.GetValue(LowMemory))
            tiling = Model.Vae.VaeTiling.For(vae);
        return new MemoryOptions { ReleaseTextEncoder = parse.GetValue(LowMemory), VaeTiling = tiling };
    }
}
