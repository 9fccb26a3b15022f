using ILGPU;

namespace IlgpuDiffusion.Kernels;

using Columns16 = FlashMmaBlock;
using Columns32 = FlashMmaPair<FlashMmaBlock, FlashMmaBlock>;
using Columns48 = FlashMmaPair<FlashMmaPair<FlashMmaBlock, FlashMmaBlock>, FlashMmaBlock>;
using Columns64 = FlashMmaPair<FlashMmaPair<FlashMmaBlock, FlashMmaBlock>, FlashMmaPair<FlashMmaBlock, FlashMmaBlock>>;
using Columns80 = FlashMmaPair<
    FlashMmaPair<FlashMmaPair<FlashMmaBlock, FlashMmaBlock>, FlashMmaPair<FlashMmaBlock, FlashMmaBlock>>, FlashMmaBlock>;
using Columns160 = FlashMmaPair<
    FlashMmaPair<
        FlashMmaPair<FlashMmaPair<FlashMmaBlock, FlashMmaBlock>, FlashMmaPair<FlashMmaBlock, FlashMmaBlock>>,
        FlashMmaPair<FlashMmaPair<FlashMmaBlock, FlashMmaBlock>, FlashMmaPair<FlashMmaBlock, FlashMmaBlock>>>,
    FlashMmaPair<FlashMmaBlock, FlashMmaBlock>>;

/// <summary>
/// A block shape of <see cref="TensorCoreFlashAttention"/>, compiled into the kernel as a generic struct argument:
/// a group of <see cref="Warps"/> warps owns 16 queries per warp and streams keys and values in blocks of
/// <see cref="KeyBlock"/>; the head dim is padded to <see cref="PaddedHeadDim"/> (a multiple of 16) inside the
/// kernel, so a shape serves head dims in (PaddedHeadDim − 16, PaddedHeadDim]. The register tiles' types (scores:
/// 16 × KeyBlock, output: 16 × PaddedHeadDim per warp) are named only in <see cref="Run"/>.
/// </summary>
internal interface ITensorCoreFlashShape
{
    int Warps { get; }

    int KeyBlock { get; }

    int PaddedHeadDim { get; }

    void Run(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> output,
        ArrayView<float> logSumExp, AttentionDims d);
}

/// <summary>CUDA, D = 40 (padded to 48): 64 queries (4 warps, 128 threads) × 64 keys, 21,248 B of shared memory.</summary>
internal readonly struct TensorCoreFlash40 : ITensorCoreFlashShape
{
    public int Warps => 4;

    public int KeyBlock => default(Columns64).Columns;

    public int PaddedHeadDim => default(Columns48).Columns;

    public void Run(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> output,
        ArrayView<float> logSumExp, AttentionDims d) =>
        TensorCoreFlashAttention.Body<TensorCoreFlash40, Columns64, Columns48>(q, k, v, output, logSumExp, d);
}

/// <summary>CUDA, D = 80: 64 queries (4 warps, 128 threads) × 64 keys, 34,048 B of shared memory.</summary>
internal readonly struct TensorCoreFlash80 : ITensorCoreFlashShape
{
    public int Warps => 4;

    public int KeyBlock => default(Columns64).Columns;

    public int PaddedHeadDim => default(Columns80).Columns;

    public void Run(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> output,
        ArrayView<float> logSumExp, AttentionDims d) =>
        TensorCoreFlashAttention.Body<TensorCoreFlash80, Columns64, Columns80>(q, k, v, output, logSumExp, d);
}

/// <summary>CUDA, D = 160: 64 queries (4 warps, 128 threads) × 32 keys, 45,056 B of shared memory (under 48 KB).</summary>
internal readonly struct TensorCoreFlash160 : ITensorCoreFlashShape
{
    public int Warps => 4;

    public int KeyBlock => default(Columns32).Columns;

    public int PaddedHeadDim => default(Columns160).Columns;

    public void Run(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> output,
        ArrayView<float> logSumExp, AttentionDims d) =>
        TensorCoreFlashAttention.Body<TensorCoreFlash160, Columns32, Columns160>(q, k, v, output, logSumExp, d);
}

/// <summary>A CPU test shape, D in (32, 48]: 32 queries (2 warps) × 16 keys, so that warps and key blocks both vary.</summary>
internal readonly struct TensorCoreFlashTest48 : ITensorCoreFlashShape
{
    public int Warps => 2;

    public int KeyBlock => default(Columns16).Columns;

    public int PaddedHeadDim => default(Columns48).Columns;

    public void Run(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> output,
        ArrayView<float> logSumExp, AttentionDims d) =>
        TensorCoreFlashAttention.Body<TensorCoreFlashTest48, Columns16, Columns48>(q, k, v, output, logSumExp, d);
}

/// <summary>A CPU test shape, D in (64, 80]: 16 queries (1 warp) × 32 keys (two k16 steps of P·V per block).</summary>
internal readonly struct TensorCoreFlashTest80 : ITensorCoreFlashShape
{
    public int Warps => 1;

    public int KeyBlock => default(Columns32).Columns;

    public int PaddedHeadDim => default(Columns80).Columns;

    public void Run(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> output,
        ArrayView<float> logSumExp, AttentionDims d) =>
        TensorCoreFlashAttention.Body<TensorCoreFlashTest80, Columns32, Columns80>(q, k, v, output, logSumExp, d);
}
