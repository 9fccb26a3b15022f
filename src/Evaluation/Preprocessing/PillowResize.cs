using IlgpuDiffusion.Model.Images;

namespace IlgpuDiffusion.Evaluation.Preprocessing;

/// <summary>
/// Pillow's <c>Image.resize(size, BILINEAR | BICUBIC)</c> (Pillow 9.4, no box, no reducing gap), bit for bit: a
/// separable convolution whose weights are computed in double, normalised to sum 1 and converted to fixed point with
/// 22 fractional bits; the horizontal pass runs first (skipped when the width is unchanged) and writes a uint8
/// intermediate image, the vertical pass (skipped when the height is unchanged) reads it. Each output is
/// <c>clamp((2^21 + Σ pixel·weight) &gt;&gt; 22, 0, 255)</c>.
/// </summary>
public static class PillowResize
{
    private const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Resizes <paramref name="image"/> to <paramref name="width"/> × <paramref name="height"/> with <paramref name="filter"/>.</summary>
    public static RgbImage Resize(RgbImage image, int width, int height, ResampleFilter filter)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (!Enum.IsDefined(filter)) throw new ArgumentOutOfRangeException(nameof(filter), filter, "expected Bilinear (2) or Bicubic (3).");
        var pixels = image.Pixels.ToArray();
        int currentWidth = image.Width;
        if (width != currentWidth)
        {
            pixels = Pass(pixels, image.Height, currentWidth, width, filter, horizontal: true);
            currentWidth = width;
        }
        if (height != image.Height)
            pixels = Pass(pixels, image.Height, currentWidth, height, filter, horizontal: false);
        return new RgbImage(width, height, pixels);
    }

    /// <summary>One pass along the rows (<paramref name="horizontal"/>) or the columns of a <paramref name="rows"/> × <paramref name="columns"/> RGB image.</summary>
    private static byte[] Pass(byte[] source, int rows, int columns, int outSize, ResampleFilter filter, bool horizontal)
    {
        int inSize = horizontal ? columns : rows;
        var (starts, counts, weights, stride) = Coefficients(inSize, outSize, filter);
        int outRows = horizontal ? rows : outSize, outColumns = horizontal ? outSize : columns;
        var result = new byte[3 * outRows * outColumns];
        for (int y = 0; y < outRows; y++)
            for (int x = 0; x < outColumns; x++)
            {
                int o = horizontal ? x : y;
                for (int c = 0; c < 3; c++)
                {
                    long acc = 1L << (PrecisionBits - 1);
                    for (int j = 0; j < counts[o]; j++)
                    {
                        int i = starts[o] + j;
                        int at = horizontal ? 3 * (y * columns + i) + c : 3 * (i * columns + x) + c;
                        acc += source[at] * (long)weights[o * stride + j];
                    }
                    result[3 * (y * outColumns + x) + c] = (byte)Math.Clamp(acc >> PrecisionBits, 0, 255);
                }
            }
        return result;
    }

    /// <summary>Pillow's <c>precompute_coeffs</c> and <c>normalize_coeffs_8bpc</c> for one axis.</summary>
    private static (int[] Starts, int[] Counts, int[] Weights, int Stride) Coefficients(int inSize, int outSize, ResampleFilter filter)
    {
        double filterSupport = filter == ResampleFilter.Bicubic ? 2.0 : 1.0;
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = filterSupport * filterScale;
        int stride = (int)Math.Ceiling(support) * 2 + 1;
        var starts = new int[outSize];
        var counts = new int[outSize];
        var weights = new int[outSize * stride];
        var k = new double[stride];
        for (int o = 0; o < outSize; o++)
        {
            double center = (o + 0.5) * scale;
            int xmin = Math.Max((int)(center - support + 0.5), 0);
            int xmax = Math.Min((int)(center + support + 0.5), inSize) - xmin;
            double total = 0;
            for (int j = 0; j < xmax; j++)
            {
                double w = Filter(filter, (j + xmin - center + 0.5) * (1.0 / filterScale));
                k[j] = w;
                total += w;
            }
            for (int j = 0; j < xmax; j++)
            {
                double normalised = total != 0 ? k[j] / total : k[j];
                weights[o * stride + j] = normalised < 0
                    ? (int)(-0.5 + normalised * (1 << PrecisionBits))
                    : (int)(0.5 + normalised * (1 << PrecisionBits));
            }
            starts[o] = xmin;
            counts[o] = xmax;
        }
        return (starts, counts, weights, stride);
    }

    /// <summary>Pillow's <c>bilinear_filter</c> and <c>bicubic_filter</c> (a = −0.5), in its operation order.</summary>
    private static double Filter(ResampleFilter filter, double x)
    {
        x = Math.Abs(x);
        if (filter == ResampleFilter.Bilinear) return x < 1.0 ? 1.0 - x : 0.0;
        const double a = -0.5;
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }
}
