namespace IlgpuDiffusion.Model.Pipelines;

/// <summary>
/// diffusers' tiled VAE arithmetic on NCHW host tensors: the input is cut into square tiles of <c>tile</c> starting
/// every <c>stride</c> (edge tiles are smaller), each tile is mapped (decoded or encoded) on its own, then, row by row,
/// every output tile is blended in place with the (already blended) tile above it (<c>blend_v</c>) and the one to its
/// left (<c>blend_h</c>) over <c>blend</c> rows/columns, <c>out = a·(1 − k/blend) + b·(k/blend)</c> in float32, and
/// its top-left <c>rowLimit × rowLimit</c> is placed in the output.
/// </summary>
internal static class TileBlender
{
    /// <summary>Maps <paramref name="input"/> tile by tile with <paramref name="map"/> and blends the results.</summary>
    public static HostTensor Run(HostTensor input, int tile, int stride, int blend, int rowLimit, Func<HostTensor, HostTensor> map)
    {
        int height = input.Shape[2], width = input.Shape[3];
        var rows = new List<HostTensor[]>();
        for (int y = 0; y < height; y += stride)
        {
            var row = new List<HostTensor>();
            for (int x = 0; x < width; x += stride)
                row.Add(map(Crop(input, y, x, Math.Min(tile, height - y), Math.Min(tile, width - x))));
            rows.Add([.. row]);
        }
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < rows[i].Length; j++)
            {
                if (i > 0) BlendVertical(rows[i - 1][j], rows[i][j], blend);
                if (j > 0) BlendHorizontal(rows[i][j - 1], rows[i][j], blend);
            }
        return Assemble(rows, rowLimit);
    }

    /// <summary>The <paramref name="h"/>×<paramref name="w"/> window of <paramref name="source"/> at (<paramref name="y"/>, <paramref name="x"/>).</summary>
    private static HostTensor Crop(HostTensor source, int y, int x, int h, int w)
    {
        int n = source.Shape[0], c = source.Shape[1], height = source.Shape[2], width = source.Shape[3];
        var values = new float[n * c * h * w];
        for (int plane = 0; plane < n * c; plane++)
            for (int r = 0; r < h; r++)
                source.Values.AsSpan((plane * height + y + r) * width + x, w).CopyTo(values.AsSpan((plane * h + r) * w, w));
        return new HostTensor(values, n, c, h, w);
    }

    /// <summary>blend_v: the first rows of <paramref name="below"/> fade in from the last rows of <paramref name="above"/>.</summary>
    private static void BlendVertical(HostTensor above, HostTensor below, int blend)
    {
        int extent = Math.Min(Math.Min(above.Shape[2], below.Shape[2]), blend);
        int planes = below.Shape[0] * below.Shape[1], aboveHeight = above.Shape[2], belowHeight = below.Shape[2], width = below.Shape[3];
        for (int k = 0; k < extent; k++)
        {
            var (keep, take) = Weights(k, extent);
            for (int plane = 0; plane < planes; plane++)
            {
                var a = above.Values.AsSpan((plane * aboveHeight + aboveHeight - extent + k) * width, width);
                var b = below.Values.AsSpan((plane * belowHeight + k) * width, width);
                for (int x = 0; x < width; x++) b[x] = a[x] * keep + b[x] * take;
            }
        }
    }

    /// <summary>blend_h: the first columns of <paramref name="right"/> fade in from the last columns of <paramref name="left"/>.</summary>
    private static void BlendHorizontal(HostTensor left, HostTensor right, int blend)
    {
        int extent = Math.Min(Math.Min(left.Shape[3], right.Shape[3]), blend);
        int rows = right.Shape[0] * right.Shape[1] * right.Shape[2], leftWidth = left.Shape[3], rightWidth = right.Shape[3];
        for (int k = 0; k < extent; k++)
        {
            var (keep, take) = Weights(k, extent);
            for (int r = 0; r < rows; r++)
            {
                ref float b = ref right.Values[r * rightWidth + k];
                b = left.Values[r * leftWidth + leftWidth - extent + k] * keep + b * take;
            }
        }
    }

    /// <summary>torch's <c>1 − k/extent</c> and <c>k/extent</c> (Python floats, applied to float32 tensors).</summary>
    private static (float Keep, float Take) Weights(int k, int extent) => ((float)(1 - (double)k / extent), (float)((double)k / extent));

    /// <summary>Concatenates the top-left <paramref name="rowLimit"/>² of every tile (torch.cat over columns, then rows).</summary>
    private static HostTensor Assemble(List<HostTensor[]> rows, int rowLimit)
    {
        var first = rows[0][0];
        int n = first.Shape[0], c = first.Shape[1];
        int height = rows.Sum(row => Math.Min(rowLimit, row[0].Shape[2]));
        int width = rows[0].Sum(t => Math.Min(rowLimit, t.Shape[3]));
        var values = new float[n * c * height * width];
        int top = 0;
        foreach (var row in rows)
        {
            int h = Math.Min(rowLimit, row[0].Shape[2]), left = 0;
            foreach (var t in row)
            {
                int w = Math.Min(rowLimit, t.Shape[3]), tileHeight = t.Shape[2], tileWidth = t.Shape[3];
                for (int plane = 0; plane < n * c; plane++)
                    for (int r = 0; r < h; r++)
                        t.Values.AsSpan((plane * tileHeight + r) * tileWidth, w).CopyTo(values.AsSpan((plane * height + top + r) * width + left, w));
                left += w;
            }
            top += h;
        }
        return new HostTensor(values, n, c, height, width);
    }
}
