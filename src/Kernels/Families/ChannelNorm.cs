using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The sizes of a normalization over channels-last data viewed as [Samples, Spatial, Channels]: statistics per
/// (sample, group of <see cref="Channels"/>/<see cref="Groups"/> channels) over all spatial positions, affine per
/// channel. Group norm of [N, H, W, C] is (N, H·W, C, G); layer norm of [R, C] is (R, 1, C, 1).
/// </summary>
internal readonly record struct NormDims(int Samples, int Spatial, int Channels, int Groups)
{
    /// <summary>Spatial positions (or rows) one thread of a partial-sum pass covers.</summary>
    public const int Chunk = 32;

    public int ChannelsPerGroup => Channels / Groups;

    /// <summary>Sample-group pairs: one mean and one rstd each.</summary>
    public int StatCount => Samples * Groups;

    /// <summary>Chunks of spatial positions per sample (the statistics passes).</summary>
    public int SpatialChunks => (Spatial + Chunk - 1) / Chunk;

    /// <summary>Chunks of rows (sample × spatial) for the γ/β gradient pass.</summary>
    public int RowChunks => (Samples * Spatial + Chunk - 1) / Chunk;

    /// <summary>Elements in one spatial chunk of one group.</summary>
    public int ChunkElements(int chunk) => (Math.Min(Spatial, (chunk + 1) * Chunk) - chunk * Chunk) * ChannelsPerGroup;
}

/// <summary>Validated arguments of a normalization forward: y (and the saved mean, rstd) from x, γ, β.</summary>
internal readonly record struct NormForwardArgs(
    Tensor X, Tensor Gamma, Tensor Beta, NormDims Dims, float Eps, bool Silu, Tensor Y, Tensor Mean, Tensor Rstd);

/// <summary>Validated arguments of a normalization backward; DGamma and DBeta are null when γ, β are frozen.</summary>
internal readonly record struct NormBackwardArgs(
    Tensor Dy, Tensor X, Tensor Gamma, Tensor Beta, Tensor Mean, Tensor Rstd, NormDims Dims, bool Silu,
    Tensor Dx, Tensor? DGamma, Tensor? DBeta);

/// <summary>
/// Portable kernels shared by <see cref="GroupNorm"/> and <see cref="LayerNorm"/> (layer norm is a group norm
/// with one group and one spatial position per row), forward and backward side by side. Deterministic: every sum
/// runs in a fixed order: one thread per (chunk, output) writes a partial, then one thread per output combines
/// the partials in chunk order. Partials are laid out [chunks, 2, width].
/// </summary>
internal static class ChannelNorm
{
    /// <summary>Checks what both norms need of x, γ and β: F32, one device, γ and β of length C = x's last dim.</summary>
    public static void CheckAffine(string op, Tensor x, Tensor gamma, Tensor beta)
    {
        Require.DType(op, nameof(x), x, DType.F32);
        Require.DType(op, nameof(gamma), gamma, DType.F32);
        Require.DType(op, nameof(beta), beta, DType.F32);
        Require.SameDevice(op, nameof(gamma), gamma, x.Device);
        Require.SameDevice(op, nameof(beta), beta, x.Device);
        int c = x.Shape[-1];
        Require.Shape(op, nameof(gamma), gamma, c);
        Require.Shape(op, nameof(beta), beta, c);
    }

    /// <summary>Checks that eps is finite and not negative.</summary>
    public static void CheckEps(string op, float eps)
    {
        Require.Finite(op, nameof(eps), eps);
        if (eps < 0) throw new ArgumentException($"{op}: eps is {eps}, expected ≥ 0.", nameof(eps));
    }

    /// <summary>Checks a backward's dy against x, and the saved mean and rstd against <paramref name="statShape"/>.</summary>
    public static void CheckSaved(string op, Tensor dy, Tensor x, Tensor mean, Tensor rstd, int[] statShape)
    {
        Require.DType(op, nameof(dy), dy, DType.F32);
        Require.DType(op, nameof(mean), mean, DType.F32);
        Require.DType(op, nameof(rstd), rstd, DType.F32);
        Require.SameDevice(op, nameof(dy), dy, x.Device);
        Require.SameDevice(op, nameof(mean), mean, x.Device);
        Require.SameDevice(op, nameof(rstd), rstd, x.Device);
        Require.SameShape(op, nameof(dy), dy, x, nameof(x));
        Require.Shape(op, nameof(mean), mean, statShape);
        Require.Shape(op, nameof(rstd), rstd, statShape);
    }

    /// <summary>Forward: chunk statistics, their merge into mean and rstd, then the normalized (and SiLU'd) output.</summary>
    public static void LaunchForward(Device device, NormForwardArgs a)
    {
        var d = a.Dims;
        var acc = device.Accelerator;
        using var partial = Tensor.Empty(device, DType.F32, d.SpatialChunks, 2, d.StatCount);
        acc.LaunchAutoGrouped(ChunkStatsKernel, device.Stream, new Index1D(d.SpatialChunks * d.StatCount),
            a.X.F32View, d, partial.F32View);
        acc.LaunchAutoGrouped(MergeStatsKernel, device.Stream, new Index1D(d.StatCount),
            partial.F32View, d, a.Eps, a.Mean.F32View, a.Rstd.F32View);
        acc.LaunchAutoGrouped(NormalizeKernel, device.Stream, new Index1D(a.X.Count),
            a.X.F32View, a.Gamma.F32View, a.Beta.F32View, a.Mean.F32View, a.Rstd.F32View, d, a.Silu ? 1 : 0, a.Y.F32View);
    }

    /// <summary>
    /// Backward: per (sample, group) Σ dx̂ and Σ dx̂·x̂ (dx̂ = dz·γ, dz = dy through the SiLU's derivative when fused),
    /// then dx per element; then, unless frozen, dγ = Σ dz·x̂ and dβ = Σ dz per channel.
    /// </summary>
    public static void LaunchBackward(Device device, NormBackwardArgs a)
    {
        var d = a.Dims;
        var acc = device.Accelerator;
        int silu = a.Silu ? 1 : 0;
        using (var partial = Tensor.Empty(device, DType.F32, d.SpatialChunks, 2, d.StatCount))
        using (var sums = Tensor.Empty(device, DType.F32, 2, d.StatCount))
        {
            acc.LaunchAutoGrouped(ChunkGradSumsKernel, device.Stream, new Index1D(d.SpatialChunks * d.StatCount),
                a.Dy.F32View, a.X.F32View, a.Gamma.F32View, a.Beta.F32View, a.Mean.F32View, a.Rstd.F32View, d, silu,
                partial.F32View);
            var sumDxhat = sums.F32View.SubView(0, d.StatCount);
            var sumDxhatXhat = sums.F32View.SubView(d.StatCount, d.StatCount);
            acc.LaunchAutoGrouped(SumPartialsKernel, device.Stream, new Index1D(d.StatCount),
                partial.F32View, d.SpatialChunks, d.StatCount, sumDxhat, sumDxhatXhat);
            acc.LaunchAutoGrouped(InputGradKernel, device.Stream, new Index1D(a.X.Count),
                a.Dy.F32View, a.X.F32View, a.Gamma.F32View, a.Beta.F32View, a.Mean.F32View, a.Rstd.F32View, d, silu,
                sumDxhat, sumDxhatXhat, a.Dx.F32View);
        }
        if (a.DGamma is null || a.DBeta is null) return;
        using var affinePartial = Tensor.Empty(device, DType.F32, d.RowChunks, 2, d.Channels);
        acc.LaunchAutoGrouped(ChunkAffineGradKernel, device.Stream, new Index1D(d.RowChunks * d.Channels),
            a.Dy.F32View, a.X.F32View, a.Gamma.F32View, a.Beta.F32View, a.Mean.F32View, a.Rstd.F32View, d, silu,
            affinePartial.F32View);
        acc.LaunchAutoGrouped(SumPartialsKernel, device.Stream, new Index1D(d.Channels),
            affinePartial.F32View, d.RowChunks, d.Channels, a.DGamma.F32View, a.DBeta.F32View);
    }

    /// <summary>
    /// One thread per (spatial chunk, sample-group): the chunk's mean (summed relative to its first element, so a
    /// large common offset costs no precision) and M2 = Σ (x − mean)², by two passes over it.
    /// Thread i = chunk · StatCount + stat.
    /// </summary>
    [Kernel]
    internal static void ChunkStatsKernel(Index1D i, ArrayView<float> x, NormDims d, ArrayView<float> partial)
    {
        int stat = i % d.StatCount, chunk = i / d.StatCount;
        int n = stat / d.Groups, c0 = stat % d.Groups * d.ChannelsPerGroup, cpg = d.ChannelsPerGroup;
        int s0 = chunk * NormDims.Chunk, s1 = Math.Min(s0 + NormDims.Chunk, d.Spatial);
        float shift = x[(n * d.Spatial + s0) * d.Channels + c0], sum = 0f;
        for (int s = s0; s < s1; s++)
        {
            int row = (n * d.Spatial + s) * d.Channels + c0;
            for (int j = 0; j < cpg; j++) sum += x[row + j] - shift;
        }
        float mean = shift + sum / d.ChunkElements(chunk);
        float m2 = 0f;
        for (int s = s0; s < s1; s++)
        {
            int row = (n * d.Spatial + s) * d.Channels + c0;
            for (int j = 0; j < cpg; j++)
            {
                float t = x[row + j] - mean;
                m2 += t * t;
            }
        }
        partial[(chunk * 2) * d.StatCount + stat] = mean;
        partial[(chunk * 2 + 1) * d.StatCount + stat] = m2;
    }

    /// <summary>
    /// One thread per sample-group: merges the chunks' (count, mean, M2) in chunk order (Chan et al.'s pairwise
    /// update), then writes mean and rstd = 1/√(M2/count + eps).
    /// </summary>
    [Kernel]
    internal static void MergeStatsKernel(
        Index1D stat, ArrayView<float> partial, NormDims d, float eps, ArrayView<float> mean, ArrayView<float> rstd)
    {
        float count = 0f, m = 0f, m2 = 0f;
        for (int chunk = 0; chunk < d.SpatialChunks; chunk++)
        {
            float nb = d.ChunkElements(chunk);
            float total = count + nb;
            float delta = partial[(chunk * 2) * d.StatCount + stat] - m;
            m += delta * (nb / total);
            m2 += partial[(chunk * 2 + 1) * d.StatCount + stat] + delta * delta * (count * nb / total);
            count = total;
        }
        mean[stat] = m;
        rstd[stat] = 1f / MathF.Sqrt(m2 / count + eps);
    }

    /// <summary>One thread per element: y = (x − mean)·rstd·γ + β, then SiLU when <paramref name="silu"/> is 1.</summary>
    [Kernel]
    internal static void NormalizeKernel(
        Index1D i, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> mean,
        ArrayView<float> rstd, NormDims d, int silu, ArrayView<float> y)
    {
        int c = i % d.Channels, stat = StatIndex(i, d);
        float z = (x[i] - mean[stat]) * rstd[stat] * gamma[c] + beta[c];
        y[i] = silu != 0 ? z / (1f + MathF.Exp(-z)) : z;
    }

    /// <summary>
    /// One thread per (spatial chunk, sample-group): partial Σ dx̂ and Σ dx̂·x̂ over the chunk, dx̂ = dz·γ.
    /// Thread i = chunk · StatCount + stat.
    /// </summary>
    [Kernel]
    internal static void ChunkGradSumsKernel(
        Index1D i, ArrayView<float> dy, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> mean, ArrayView<float> rstd, NormDims d, int silu, ArrayView<float> partial)
    {
        int stat = i % d.StatCount, chunk = i / d.StatCount;
        int n = stat / d.Groups, c0 = stat % d.Groups * d.ChannelsPerGroup;
        int s1 = Math.Min((chunk + 1) * NormDims.Chunk, d.Spatial);
        float mu = mean[stat], r = rstd[stat], sumDxhat = 0f, sumDxhatXhat = 0f;
        for (int s = chunk * NormDims.Chunk; s < s1; s++)
        {
            int row = (n * d.Spatial + s) * d.Channels;
            for (int c = c0; c < c0 + d.ChannelsPerGroup; c++)
            {
                float xhat = (x[row + c] - mu) * r;
                float dxhat = PreActivationGrad(dy[row + c], xhat * gamma[c] + beta[c], silu) * gamma[c];
                sumDxhat += dxhat;
                sumDxhatXhat += dxhat * xhat;
            }
        }
        partial[(chunk * 2) * d.StatCount + stat] = sumDxhat;
        partial[(chunk * 2 + 1) * d.StatCount + stat] = sumDxhatXhat;
    }

    /// <summary>One thread per element: dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), the means over the element's group.</summary>
    [Kernel]
    internal static void InputGradKernel(
        Index1D i, ArrayView<float> dy, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> mean, ArrayView<float> rstd, NormDims d, int silu, ArrayView<float> sumDxhat,
        ArrayView<float> sumDxhatXhat, ArrayView<float> dx)
    {
        int c = i % d.Channels, stat = StatIndex(i, d);
        float r = rstd[stat], xhat = (x[i] - mean[stat]) * r;
        float dxhat = PreActivationGrad(dy[i], xhat * gamma[c] + beta[c], silu) * gamma[c];
        float count = d.Spatial * d.ChannelsPerGroup;
        dx[i] = r * (dxhat - (sumDxhat[stat] + xhat * sumDxhatXhat[stat]) / count);
    }

    /// <summary>
    /// One thread per (row chunk, channel): partial dγ = Σ dz·x̂ and dβ = Σ dz over the chunk's rows.
    /// Thread i = chunk · Channels + c, so neighbouring threads read neighbouring channels.
    /// </summary>
    [Kernel]
    internal static void ChunkAffineGradKernel(
        Index1D i, ArrayView<float> dy, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> mean, ArrayView<float> rstd, NormDims d, int silu, ArrayView<float> partial)
    {
        int c = i % d.Channels, chunk = i / d.Channels, g = c / d.ChannelsPerGroup;
        int r1 = Math.Min((chunk + 1) * NormDims.Chunk, d.Samples * d.Spatial);
        float sumGamma = 0f, sumBeta = 0f;
        for (int row = chunk * NormDims.Chunk; row < r1; row++)
        {
            int stat = row / d.Spatial * d.Groups + g, e = row * d.Channels + c;
            float xhat = (x[e] - mean[stat]) * rstd[stat];
            float dz = PreActivationGrad(dy[e], xhat * gamma[c] + beta[c], silu);
            sumGamma += dz * xhat;
            sumBeta += dz;
        }
        partial[(chunk * 2) * d.Channels + c] = sumGamma;
        partial[(chunk * 2 + 1) * d.Channels + c] = sumBeta;
    }

    /// <summary>
    /// One thread per output j of a [chunks, 2, width] partial: first[j] = Σ_k partial[k, 0, j] and
    /// second[j] = Σ_k partial[k, 1, j], summed in chunk order.
    /// </summary>
    [Kernel]
    internal static void SumPartialsKernel(
        Index1D j, ArrayView<float> partial, int chunks, int width, ArrayView<float> first, ArrayView<float> second)
    {
        float a = 0f, b = 0f;
        for (int k = 0; k < chunks; k++)
        {
            a += partial[(k * 2) * width + j];
            b += partial[(k * 2 + 1) * width + j];
        }
        first[j] = a;
        second[j] = b;
    }

    /// <summary>The (sample, group) statistics index of element <paramref name="i"/>.</summary>
    private static int StatIndex(int i, NormDims d) =>
        i / (d.Spatial * d.Channels) * d.Groups + i % d.Channels / d.ChannelsPerGroup;

    /// <summary>dL/dz from dL/dy at pre-activation z: dy itself, or dy·σ(z)·(1 + z·(1 − σ(z))) through a fused SiLU.</summary>
    private static float PreActivationGrad(float dy, float z, int silu)
    {
        if (silu == 0) return dy;
        float s = 1f / (1f + MathF.Exp(-z));
        return dy * s * (1f + z * (1f - s));
    }
}
