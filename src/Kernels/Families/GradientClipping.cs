using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Global-norm gradient clipping (<c>--max-grad-norm</c>), as torch.nn.utils.clip_grad_norm_: the 2-norm of all
/// gradients together and the factor min(1, maxNorm / (norm + 1e-6)) that <see cref="Optimizer.AdamWStep"/> applies.
/// Both stay on the device, and the sum is deterministic: fixed chunks per gradient, then <see cref="Reduce.Sum"/>.
/// </summary>
public static class GradientClipping
{
    /// <summary>The term torch adds to the norm before dividing.</summary>
    public const float NormEpsilon = 1e-6f;

    /// <summary>Validated operands of a global norm, with where each gradient's chunk sums start.</summary>
    internal readonly record struct NormArgs(IReadOnlyList<TensorSlice> Gradients, int[] ChunkStarts, Tensor Norm);

    /// <summary>Validated operands of a clip factor.</summary>
    internal readonly record struct ClipArgs(Tensor Norm, float MaxNorm, Tensor Scale);

    private static readonly OpDispatcher<NormArgs> normDispatcher =
        new(new KernelVariant<NormArgs>("grad-norm-portable", KernelTier.Portable, (_, _) => true, LaunchNormPortable));

    private static readonly OpDispatcher<ClipArgs> clipDispatcher =
        new(new KernelVariant<ClipArgs>("clip-scale-portable", KernelTier.Portable, (_, _) => true, LaunchClipPortable));

    /// <summary>√(Σ over every element of every slice of x²), as a one-element F32 tensor on their device.</summary>
    /// <exception cref="ArgumentException">The list is empty, or a slice is not F32 or lives on another device.</exception>
    public static Tensor GlobalNorm(IReadOnlyList<TensorSlice> gradients)
    {
        const string op = nameof(GlobalNorm);
        ArgumentNullException.ThrowIfNull(gradients);
        if (gradients.Count == 0) throw new ArgumentException($"{op}: no gradients given.", nameof(gradients));
        var starts = new int[gradients.Count + 1];
        for (int k = 0; k < gradients.Count; k++)
        {
            var g = gradients[k];
            string name = $"{nameof(gradients)}[{k}]";
            if (g.Tensor is null) throw new ArgumentException($"{op}: {name} is an empty slice.", nameof(gradients));
            Require.DType(op, name, g.Tensor, DType.F32);
            Require.SameDevice(op, name, g.Tensor, gradients[0].Tensor.Device);
            starts[k + 1] = starts[k] + (g.Count + Reduce.ChunkSize - 1) / Reduce.ChunkSize;
        }
        var device = gradients[0].Tensor.Device;
        var norm = Tensor.Empty(device, DType.F32, 1);
        normDispatcher.Launch(device, new NormArgs(gradients, starts, norm));
        return norm;
    }

    /// <summary>
    /// min(1, <paramref name="maxNorm"/> / (norm + 1e-6)) from a one-element norm, as a new one-element F32 tensor
    /// to pass to <see cref="Optimizer.AdamWStep"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The norm is not a one-element F32 tensor, or maxNorm is not finite and > 0.</exception>
    public static Tensor ClipScale(Tensor norm, float maxNorm)
    {
        const string op = nameof(ClipScale);
        ArgumentNullException.ThrowIfNull(norm);
        Require.DType(op, nameof(norm), norm, DType.F32);
        Require.Shape(op, nameof(norm), norm, 1);
        if (!(maxNorm > 0f) || !float.IsFinite(maxNorm))
            throw new ArgumentException($"{op}: max norm {maxNorm} must be finite and > 0.", nameof(maxNorm));
        var scale = Tensor.Empty(norm.Device, DType.F32, 1);
        clipDispatcher.Launch(norm.Device, new ClipArgs(norm, maxNorm, scale));
        return scale;
    }

    private static void LaunchNormPortable(Device device, NormArgs a)
    {
        using var partials = Tensor.Empty(device, DType.F32, a.ChunkStarts[^1]);
        for (int k = 0; k < a.Gradients.Count; k++)
        {
            var g = a.Gradients[k];
            int chunks = a.ChunkStarts[k + 1] - a.ChunkStarts[k];
            device.Accelerator.LaunchAutoGrouped(
                SumSquaresChunksKernel, device.Stream, new Index1D(chunks),
                g.F32View, partials.F32View.SubView(a.ChunkStarts[k], chunks));
        }
        using var sum = Reduce.Sum(partials);
        device.Accelerator.LaunchAutoGrouped(SqrtKernel, device.Stream, new Index1D(1), sum.F32View, a.Norm.F32View);
    }

    private static void LaunchClipPortable(Device device, ClipArgs a) =>
        device.Accelerator.LaunchAutoGrouped(
            ClipScaleKernel, device.Stream, new Index1D(1), a.Norm.F32View, a.MaxNorm, a.Scale.F32View);

    /// <summary>One thread per chunk of <see cref="Reduce.ChunkSize"/> elements: the chunk's sum of squares, in order.</summary>
    [Kernel]
    internal static void SumSquaresChunksKernel(Index1D chunk, ArrayView<float> x, ArrayView<float> partial)
    {
        int start = chunk * Reduce.ChunkSize;
        int end = Math.Min(start + Reduce.ChunkSize, (int)x.Length);
        float sum = 0f;
        for (int i = start; i < end; i++) sum += x[i] * x[i];
        partial[chunk] = sum;
    }

    /// <summary>One thread: the norm from the sum of squares.</summary>
    [Kernel]
    internal static void SqrtKernel(Index1D i, ArrayView<float> sumOfSquares, ArrayView<float> norm)
        => norm[i] = MathF.Sqrt(sumOfSquares[i]);

    /// <summary>One thread: the clip factor from the norm.</summary>
    [Kernel]
    internal static void ClipScaleKernel(Index1D i, ArrayView<float> norm, float maxNorm, ArrayView<float> scale)
        => scale[i] = Math.Min(1f, maxNorm / (norm[i] + NormEpsilon));
}
