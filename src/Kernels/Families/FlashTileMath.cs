using System.Runtime.CompilerServices;
using ILGPU;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Group-level helpers of the flash-attention kernels: the cooperative load of token rows into a padded shared tile,
/// and reductions over a team of adjacent lanes.
/// </summary>
internal static class FlashTileMath
{
    /// <summary>
    /// tile[r·(dim + 1) + c] = source[start + r·rowStride + c] for r &lt; valid, and 0 for valid ≤ r &lt; rows; c &lt; dim.
    /// Rows past <paramref name="valid"/> read row valid − 1 (always in range) and store 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadRows(ArrayView<float> source, int start, int rowStride, int valid,
        ArrayView<float> tile, int rows, int dim, int threads)
    {
        for (int index = Group.IdxX; index < rows * dim; index += threads)
        {
            int r = index / dim, c = index - r * dim;
            float value = source[start + Math.Min(r, valid - 1) * rowStride + c];
            tile[r * (dim + 1) + c] = r < valid ? value : 0f;
        }
    }

    /// <summary>The maximum of <paramref name="value"/> over the <paramref name="team"/> adjacent lanes of this thread's team.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float TeamMax(float value, int team)
    {
        for (int mask = team / 2; mask > 0; mask /= 2) value = MathF.Max(value, Warp.ShuffleXor(value, mask));
        return value;
    }

    /// <summary>The sum of <paramref name="value"/> over this thread's team (every lane gets the same, order-fixed sum).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float TeamSum(float value, int team)
    {
        for (int mask = team / 2; mask > 0; mask /= 2) value += Warp.ShuffleXor(value, mask);
        return value;
    }
}
