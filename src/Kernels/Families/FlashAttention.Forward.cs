using ILGPU;
using ILGPU.Runtime;
using static IlgpuDiffusion.Kernels.FlashTileMath;

namespace IlgpuDiffusion.Kernels;

internal static partial class FlashAttention
{
    /// <summary>
    /// One group per (n, h, block of Br queries); see <see cref="FlashAttention"/>. The specialized values are the
    /// <see cref="FlashTile"/>: head dim, Br (owned queries), Bc (streamed keys), rows per thread, team size.
    /// </summary>
    [Kernel(ExplicitlyGrouped = true, Specialize = new object[] { 4, 4, 6, 2, 2 })]
    [Kernel(ExplicitlyGrouped = true, Specialize = new object[] { 8, 4, 6, 2, 2 })]
    [Kernel(ExplicitlyGrouped = true, Specialize = new object[] { 40, 64, 64, 4, 8 })]
    [Kernel(ExplicitlyGrouped = true, Specialize = new object[] { 80, 64, 32, 4, 8 })]
    [Kernel(ExplicitlyGrouped = true, Specialize = new object[] { 160, 32, 32, 4, 16 })]
    internal static void ForwardKernel(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v,
        ArrayView<float> output, ArrayView<float> logSumExp, AttentionDims d,
        SpecializedValue<int> headDim, SpecializedValue<int> queryBlock, SpecializedValue<int> keyBlock,
        SpecializedValue<int> rowsPerThread, SpecializedValue<int> teamSize)
    {
        int dim = headDim.Value, br = queryBlock.Value, bc = keyBlock.Value, tm = rowsPerThread.Value, team = teamSize.Value;
        int threads = br / tm * team, keysPerThread = bc / team, channels = dim / team, ld = dim + 1;
        var sQ = SharedMemory.Allocate<float>(br * ld);
        var sKV = SharedMemory.Allocate<float>(bc * ld);
        var sP = SharedMemory.Allocate<float>(br * (bc + 1));

        var (n, h, first) = GroupBlock(d, d.QueryLength, br);
        int lane = Group.IdxX % team, row0 = Group.IdxX / team * tm, stride = d.Heads * dim;
        LoadRows(q, d.QueryRow(n, h, first), stride, Math.Min(br, d.QueryLength - first), sQ, br, dim, threads);
        FlashRows rows = default;
        var scores = new AddScores(sQ, ld, keysPerThread, intoGrads: false);
        var products = new AddProducts(sP, bc + 1, channels, intoAcc2: false);

        int keyEnd = d.Causal == 1 ? Math.Min(d.KeyLength, first + br) : d.KeyLength;
        for (int k0 = 0; k0 < keyEnd; k0 += bc)
        {
            int validKeys = Math.Min(bc, d.KeyLength - k0);
            Group.Barrier(); // every thread is done with the previous V block and P
            LoadRows(k, d.KeyRow(n, h, k0), stride, validKeys, sKV, bc, dim, threads);
            Group.Barrier();
            for (int e = 0; e < dim; e++)
            {
                scores.Y.Load(sKV, lane * ld + e, team * ld, 0, keysPerThread);
                scores.Index = row0 * ld + e;
                rows.ForEach(ref scores, tm);
            }
            var softmax = new OnlineSoftmax(sP, row0 * (bc + 1) + lane, bc + 1, k0 + lane, first + row0, d.KeyLength,
                d.Causal == 1, k0 == 0, d.Scale, team, keysPerThread, channels);
            rows.ForEach(ref softmax, tm);
            Group.Barrier(); // every thread is done with the K block; P is complete
            LoadRows(v, d.ValueRow(n, h, k0), stride, validKeys, sKV, bc, dim, threads);
            Group.Barrier();
            for (int c = 0; c < bc; c++)
            {
                products.Z.Load(sKV, c * ld + lane, team, 0, channels);
                products.Index = row0 * (bc + 1) + c;
                rows.ForEach(ref products, tm);
            }
        }

        int validRows = d.QueryLength - first - row0;
        var store = new StoreAcc(output, d.OutputRow(n, h, first + row0) + lane, stride,
            validRows, 1f, normalize: true, fromAcc2: false, team, channels);
        rows.ForEach(ref store, tm);
        var lse = new StoreLogSumExp(logSumExp, d.Statistic(n, h, first + row0), validRows, lane);
        rows.ForEach(ref lse, tm);
    }
}
