using IlgpuDiffusion.Model.Pipelines;
using IlgpuDiffusion.Model.Vae;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Model.Memory;

/// <summary>
/// <see cref="VaeCodec"/>'s tiled decode and encode on the tiny VAE (8 pixels per latent): a tile as large as the
/// image codes it whole; small tiles give exactly the blend of diffusers' <c>tiled_decode</c>/<c>tiled_encode</c>,
/// recomputed here in float64 over tiles coded one by one without tiling; a tiled decode holds less device memory at
/// its peak. Tiles differ from the whole image beyond the seams too, since GroupNorm and the mid-block attention see
/// only the tile: with the tiny VAE's random weights, random inputs and tiles of 2–4 latents the relative L2 change is
/// large (measured 0.77 decoding, 0.69 encoding), so it is only bounded by the result's own norm here; SD's VAE with
/// 64-latent tiles shows the faint seams diffusers' tiling is known for.
/// </summary>
public sealed class VaeTilingTests(ITestOutputHelper output)
{
    private static AutoencoderKL Vae => TinyModel.Pipeline.Vae;

    [Fact]
    public void Tiled_decode_is_whole_for_a_large_tile_and_the_float64_blend_of_its_tiles_for_small_ones()
    {
        var small = new VaeTiling(4); // 4-latent tiles every 3 latents, blended over 8 pixels
        var fitting = Sample(1, 4, 4, 3, 3.0, seed: 3);
        Assert.Equal(VaeCodec.Decode(Vae, fitting, Devices.Portable).Values, VaeCodec.Decode(Vae, fitting, Devices.Portable, small).Values);

        var latents = Sample(1, 4, 5, 5, 3.0, seed: 1); // a 2 × 2 grid: tiles of 4 and 2 latents
        var (whole, wholePeak) = PeakOf(() => VaeCodec.Decode(Vae, latents, Devices.Portable));
        var (tiled, tiledPeak) = PeakOf(() => VaeCodec.Decode(Vae, latents, Devices.Portable, small));

        var expected = ReferenceTiles(latents, tile: 4, stride: 3, blend: 8, rowLimit: 24, t => VaeCodec.Decode(Vae, t, Devices.Portable));
        double range = whole.Values.Max(Math.Abs), blendError = MaxAbs(tiled.Values, expected);
        double seamChange = Reference.RelativeError(tiled.Values, whole.Values);
        output.WriteLine($"decode 5×5 latents in 4-latent tiles: max |tiled − float64 blend| {blendError:E2} (max |x| {range:F3}); " +
            $"tiled vs whole rel L2 {seamChange:F4}; peak live above the start: whole {wholePeak:N0} B, tiled {tiledPeak:N0} B");
        Assert.Equal(new[] { 1, 3, 40, 40 }, tiled.Shape);
        Assert.True(blendError <= 1e-5 * range, $"tiled decode differs from the float64 blend by {blendError}");
        Assert.True(seamChange > 0 && seamChange <= 1, $"tiling changed the image by rel L2 {seamChange}");
        Assert.True(tiledPeak < wholePeak, $"tiled peak {tiledPeak} B is not below the whole decode's {wholePeak} B");
    }

    [Fact]
    public void Tiled_encode_is_whole_for_a_large_tile_and_the_float64_blend_of_its_tiles_for_small_ones()
    {
        var small = new VaeTiling(4); // 32-pixel tiles every 24, blended over 1 latent
        var fitting = Sample(1, 3, 32, 24, 1.0, seed: 4);
        var (wholeFit, _) = VaeCodec.Encode(Vae, fitting, Devices.Portable);
        Assert.Equal(wholeFit.Values, VaeCodec.Encode(Vae, fitting, Devices.Portable, small).Mean.Values);

        var image = Sample(1, 3, 40, 40, 1.0, seed: 2); // a 2 × 2 grid: tiles of 32 and 16 pixels
        var (wholeMean, _) = VaeCodec.Encode(Vae, image, Devices.Portable);
        var (mean, logVar) = VaeCodec.Encode(Vae, image, Devices.Portable, small);

        var expectedMean = ReferenceTiles(image, tile: 32, stride: 24, blend: 1, rowLimit: 3, t => VaeCodec.Encode(Vae, t, Devices.Portable).Mean);
        var expectedLogVar = ReferenceTiles(image, tile: 32, stride: 24, blend: 1, rowLimit: 3, t => VaeCodec.Encode(Vae, t, Devices.Portable).LogVar);
        double meanError = MaxAbs(mean.Values, expectedMean), logVarError = MaxAbs(logVar.Values, expectedLogVar);
        double seamChange = Reference.RelativeError(mean.Values, wholeMean.Values);
        output.WriteLine($"encode 40×40 pixels in 32-pixel tiles: max |tiled − float64 blend| mean {meanError:E2}, logvar {logVarError:E2}; " +
            $"tiled vs whole mean rel L2 {seamChange:F4}");
        Assert.Equal(new[] { 1, 4, 5, 5 }, mean.Shape);
        Assert.True(meanError <= 1e-5 * expectedMean.Max(Math.Abs) && logVarError <= 1e-5 * expectedLogVar.Max(Math.Abs),
            $"tiled encode differs from the float64 blend by {meanError}, {logVarError}");
        Assert.True(seamChange > 0 && seamChange <= 1, $"tiling changed the mean by rel L2 {seamChange}");
    }

    [Fact]
    public void A_tiling_whose_stride_is_not_whole_is_refused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new VaeTiling(6));
        Assert.Contains("stride of 4.5 latents", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => VaeTiling.FromPixels(36, Vae.Config));
        Assert.Equal(8, VaeTiling.For(Vae.Config).LatentTileSize); // sample_size 64 / 8
        Assert.Throws<ArgumentException>(() => VaeCodec.Decode(Vae, Sample(1, 3, 8, 8, 1, 0), Devices.Portable, new VaeTiling(4)));
    }

    /// <summary>What <paramref name="run"/> returns and its peak live device bytes above the live bytes before it.</summary>
    private static (HostTensor Result, long Peak) PeakOf(Func<HostTensor> run)
    {
        var memory = Devices.Portable.Memory;
        memory.ResetPeak();
        long before = memory.LiveBytes;
        var result = run();
        return (result, memory.PeakLiveBytes - before);
    }

    /// <summary>
    /// diffusers' tiled arithmetic in float64, written out independently: tiles of <paramref name="tile"/> every
    /// <paramref name="stride"/> mapped one by one; row-major, each tile's first rows take
    /// <c>above·(1 − k/e) + tile·(k/e)</c> from the blended tile above, then its first columns likewise from the blended
    /// tile to its left (e = min of both sizes and <paramref name="blend"/>); the top-left <paramref name="rowLimit"/>² of each is kept.
    /// </summary>
    private static double[] ReferenceTiles(HostTensor input, int tile, int stride, int blend, int rowLimit, Func<HostTensor, HostTensor> map)
    {
        int channels = input.Shape[1], height = input.Shape[2], width = input.Shape[3];
        var grid = new List<List<double[,,]>>();
        for (int y = 0; y < height; y += stride)
        {
            var row = new List<double[,,]>();
            for (int x = 0; x < width; x += stride)
            {
                int h = Math.Min(tile, height - y), w = Math.Min(tile, width - x);
                var crop = new float[channels * h * w];
                for (int c = 0; c < channels; c++)
                    for (int r = 0; r < h; r++)
                        for (int q = 0; q < w; q++)
                            crop[(c * h + r) * w + q] = input.Values[(c * height + y + r) * width + x + q];
                var mapped = map(new HostTensor(crop, 1, channels, h, w));
                int oc = mapped.Shape[1], oh = mapped.Shape[2], ow = mapped.Shape[3];
                var t = new double[oc, oh, ow];
                for (int c = 0; c < oc; c++)
                    for (int r = 0; r < oh; r++)
                        for (int q = 0; q < ow; q++)
                            t[c, r, q] = mapped.Values[(c * oh + r) * ow + q];
                row.Add(t);
            }
            grid.Add(row);
        }
        for (int i = 0; i < grid.Count; i++)
            for (int j = 0; j < grid[i].Count; j++)
            {
                var t = grid[i][j];
                if (i > 0)
                {
                    var above = grid[i - 1][j];
                    int e = Math.Min(Math.Min(above.GetLength(1), t.GetLength(1)), blend);
                    for (int c = 0; c < t.GetLength(0); c++)
                        for (int k = 0; k < e; k++)
                            for (int q = 0; q < t.GetLength(2); q++)
                                t[c, k, q] = above[c, above.GetLength(1) - e + k, q] * (1 - (double)k / e) + t[c, k, q] * ((double)k / e);
                }
                if (j > 0)
                {
                    var left = grid[i][j - 1];
                    int e = Math.Min(Math.Min(left.GetLength(2), t.GetLength(2)), blend);
                    for (int c = 0; c < t.GetLength(0); c++)
                        for (int r = 0; r < t.GetLength(1); r++)
                            for (int k = 0; k < e; k++)
                                t[c, r, k] = left[c, r, left.GetLength(2) - e + k] * (1 - (double)k / e) + t[c, r, k] * ((double)k / e);
                }
            }
        int outChannels = grid[0][0].GetLength(0);
        int outHeight = grid.Sum(row => Math.Min(rowLimit, row[0].GetLength(1))), outWidth = grid[0].Sum(t => Math.Min(rowLimit, t.GetLength(2)));
        var result = new double[outChannels * outHeight * outWidth];
        int top = 0;
        foreach (var row in grid)
        {
            int left = 0;
            foreach (var t in row)
            {
                for (int c = 0; c < outChannels; c++)
                    for (int r = 0; r < Math.Min(rowLimit, t.GetLength(1)); r++)
                        for (int q = 0; q < Math.Min(rowLimit, t.GetLength(2)); q++)
                            result[(c * outHeight + top + r) * outWidth + left + q] = t[c, r, q];
                left += Math.Min(rowLimit, t.GetLength(2));
            }
            top += Math.Min(rowLimit, row[0].GetLength(1));
        }
        return result;
    }

    private static HostTensor Sample(int n, int c, int h, int w, double scale, int seed)
    {
        var random = new Random(seed);
        return new HostTensor([.. Enumerable.Range(0, n * c * h * w).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale))], n, c, h, w);
    }

    private static double MaxAbs(float[] actual, double[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        return actual.Select((v, i) => Math.Abs(v - expected[i])).Max();
    }
}
