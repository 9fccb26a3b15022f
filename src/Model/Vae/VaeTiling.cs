using IlgpuDiffusion.Model.Configs;

namespace IlgpuDiffusion.Model.Vae;

/// <summary>
/// How the VAE splits a large image into overlapping square tiles, as diffusers' AutoencoderKL does with
/// <c>enable_tiling()</c>: latent tiles of <see cref="LatentTileSize"/> (pixel tiles of that × the VAE's scale factor
/// when encoding) start every <c>⌊size · (1 − overlap)⌋</c>; each output tile is blended linearly with its upper and
/// left neighbours over <c>⌊output tile · overlap⌋</c> rows and columns and cropped to the stride. An image no larger
/// than one tile is coded whole, exactly as without tiling.
/// </summary>
public sealed record VaeTiling
{
    /// <summary>diffusers' tile_overlap_factor.</summary>
    public const double DefaultOverlap = 0.25;

    /// <summary>A tiling of <paramref name="latentTileSize"/> latents (diffusers' tile_latent_min_size) with <paramref name="overlap"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A tile under 2 latents, an overlap outside [0, 0.5], or a pair whose stride is not a whole number of latents.</exception>
    public VaeTiling(int latentTileSize, double overlap = DefaultOverlap)
    {
        if (latentTileSize < 2) throw new ArgumentOutOfRangeException(nameof(latentTileSize), latentTileSize, "a VAE tile must be at least 2 latents wide.");
        if (!(overlap >= 0 && overlap <= 0.5)) throw new ArgumentOutOfRangeException(nameof(overlap), overlap, "the tile overlap must be in [0, 0.5].");
        double stride = latentTileSize * (1 - overlap);
        if (stride != Math.Floor(stride))
            throw new ArgumentOutOfRangeException(nameof(latentTileSize), latentTileSize,
                $"a tile of {latentTileSize} latents with overlap {overlap} has a stride of {stride} latents; pick a size that makes it whole (a multiple of 4 for 0.25).");
        LatentTileSize = latentTileSize;
        Overlap = overlap;
    }

    /// <summary>The tile's side in latents.</summary>
    public int LatentTileSize { get; }

    /// <summary>The share of a tile that overlaps its neighbour.</summary>
    public double Overlap { get; }

    /// <summary>Latents from one tile's start to the next's: <c>⌊size · (1 − overlap)⌋</c>.</summary>
    public int LatentStride => (int)(LatentTileSize * (1 - Overlap));

    /// <summary>diffusers' default for <paramref name="vae"/>: tiles of its sample_size pixels (512 for SD 1.5, i.e. 64 latents).</summary>
    public static VaeTiling For(VaeConfig vae)
    {
        ArgumentNullException.ThrowIfNull(vae);
        return new VaeTiling(vae.SampleSize / ScaleFactor(vae));
    }

    /// <summary>A tiling of <paramref name="pixels"/>-pixel tiles for <paramref name="vae"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The size is not a multiple of the VAE's scale factor, or makes a bad tiling.</exception>
    public static VaeTiling FromPixels(int pixels, VaeConfig vae)
    {
        ArgumentNullException.ThrowIfNull(vae);
        int factor = ScaleFactor(vae);
        if (pixels <= 0 || pixels % factor != 0)
            throw new ArgumentOutOfRangeException(nameof(pixels), pixels, $"a VAE tile size must be a positive multiple of {factor} pixels.");
        return new VaeTiling(pixels / factor);
    }

    /// <summary>Pixels per latent: 2^(levels − 1).</summary>
    public static int ScaleFactor(VaeConfig vae) => 1 << (vae.BlockOutChannels.Count - 1);
}
