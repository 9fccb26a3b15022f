using ILGPU;
using ILGPU.Runtime;
using static IlgpuDiffusion.Kernels.FlashTileMath;

namespace IlgpuDiffusion.Kernels;

internal static partial class FlashAttention
{
    /// <summary>
    /// One group per (n, h, block of Br queries): D_i = dO_i·O_i into <paramref name="delta"/>, and dQ_i. The
    /// specialized values are the <see cref="FlashTile"/>: head dim, Br (owned queries), Bc (streamed keys), rows per
    /// thread, team size.
    /// </summary>
    [Kernel(ExplicitlyGrouped = true, Specialize = new object[] { 4, 4, 6, 2, 2 })]
    [Kernel(ExplicitlyGrouped = true, Specialize = new object[] { 8, 4, 6, 2, 2 })]
    [Kernel(ExplicitlyGrouped = true, Specialize = new object[] { 40, 64, 32, 4, 8 })]
    [Kernel(ExplicitlyGrouped = true, Specialize = new object[] { 80, 32, 32, 4, 16 })]
    [Kernel(ExplicitlyGrouped = true, Specialize = new object[] { 160, 16, 16, 2, 16 })]
    internal static void BackwardQueryKernel(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v,
        ArrayView<float> output, ArrayView<float> logSumExp, ArrayView<float> outputGrad, ArrayView<float> delta,
        ArrayView<float> qGrad, AttentionDims d,
        SpecializedValue<int> headDim, SpecializedValue<int> queryBlock, SpecializedValue<int> keyBlock,
        SpecializedValue<int> rowsPerThread, SpecializedValue<int> teamSize)
    {
        int dim = headDim.Value, br = queryBlock.Value, bc = keyBlock.Value, tm = rowsPerThread.Value, team = teamSize.Value;
        int threads = br / tm * team, keysPerThread = bc / team, channels = dim / team, ld = dim + 1;
        var sQ = SharedMemory.Allocate<float>(br * ld);
        var sDO = SharedMemory.Allocate<float>(br * ld);
        var sK = SharedMemory.Allocate<float>(bc * ld);
        var sV = SharedMemory.Allocate<float>(bc * ld);
        var sDS = SharedMemory.Allocate<float>(br * (bc + 1));
        var sLse = SharedMemory.Allocate<float>(br);
        var sDelta = SharedMemory.Allocate<float>(br);

        var (n, h, first) = GroupBlock(d, d.QueryLength, br);
        int lane = Group.IdxX % team, row0 = Group.IdxX / team * tm, stride = d.Heads * dim;
        int validQueries = Math.Min(br, d.QueryLength - first);
        LoadRows(q, d.QueryRow(n, h, first), stride, validQueries, sQ, br, dim, threads);
        LoadRows(outputGrad, d.OutputRow(n, h, first), stride, validQueries, sDO, br, dim, threads);
        Group.Barrier();
        for (int r = Group.IdxX; r < br; r += threads)
        {
            int i = first + Math.Min(r, validQueries - 1), o = d.OutputRow(n, h, i);
            float di = 0f;
            for (int e = 0; e < dim; e++) di += sDO[r * ld + e] * output[o + e];
            sLse[r] = logSumExp[d.Statistic(n, h, i)];
            sDelta[r] = di;
            if (r < validQueries) delta[d.Statistic(n, h, i)] = di;
        }
        FlashRows rows = default;
        var scores = new AddScores(sQ, ld, keysPerThread, intoGrads: false);
        var probabilityGrads = new AddScores(sDO, ld, keysPerThread, intoGrads: true);
        var products = new AddProducts(sDS, bc + 1, channels, intoAcc2: false);

        int keyEnd = d.Causal == 1 ? Math.Min(d.KeyLength, first + br) : d.KeyLength;
        for (int k0 = 0; k0 < keyEnd; k0 += bc)
        {
            int validKeys = Math.Min(bc, d.KeyLength - k0);
            Group.Barrier(); // every thread is done with the previous K block and dS (and, at first, with D_i)
            LoadRows(k, d.KeyRow(n, h, k0), stride, validKeys, sK, bc, dim, threads);
            LoadRows(v, d.ValueRow(n, h, k0), stride, validKeys, sV, bc, dim, threads);
            Group.Barrier();
            for (int e = 0; e < dim; e++)
            {
                scores.Y.Load(sK, lane * ld + e, team * ld, 0, keysPerThread);
                scores.Index = row0 * ld + e;
                rows.ForEach(ref scores, tm);
                probabilityGrads.Y.Load(sV, lane * ld + e, team * ld, 0, keysPerThread);
                probabilityGrads.Index = row0 * ld + e;
                rows.ForEach(ref probabilityGrads, tm);
            }
            var grads = new ScoreGradients(sDS, storeP: false, sDS, row0 * (bc + 1) + lane, bc + 1, sLse, sDelta,
                ownsQueries: true, first + row0, row0, k0 + lane, d.KeyLength, d.Causal == 1, d.Scale, lane, team, keysPerThread);
            rows.ForEach(ref grads, tm);
            Group.Barrier();
            for (int c = 0; c < bc; c++)
            {
                products.Z.Load(sK, c * ld + lane, team, 0, channels);
                products.Index = row0 * (bc + 1) + c;
                rows.ForEach(ref products, tm);
            }
        }

        var store = new StoreAcc(qGrad, d.QueryRow(n, h, first + row0) + lane, stride, d.QueryLength - first - row0,
            d.Scale, normalize: false, fromAcc2: false, team, channels);
        rows.ForEach(ref store, tm);
    }

    /// <summary>
    /// One group per (n, h, block of Bc keys): dK_j and dV_j, reading the D_i that <see cref="BackwardQueryKernel"/>
    /// wrote to <paramref name="delta"/>. The specialized values are the <see cref="FlashTile"/>: head dim, Bc (owned
    /// keys), Br (streamed queries), rows per thread, team size.
    /// </summary>
    [Kernel(ExplicitlyGrouped = true, Specialize = new object[] { 4, 4, 6, 2, 2 })]
    [Kernel(ExplicitlyGrouped = true, Specialize = new object[] { 8, 4, 6, 2, 2 })]
    [Kernel(ExplicitlyGrouped = true, Specialize = new object[] { 40, 64, 32, 4, 8 })]
    [Kernel(ExplicitlyGrouped = true, Specialize = new object[] { 80, 32, 16, 4, 16 })]
    [Kernel(ExplicitlyGrouped = true, Specialize = new object[] { 160, 16, 16, 2, 16 })]
    internal static void BackwardKeyValueKernel(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v,
        ArrayView<float> logSumExp, ArrayView<float> outputGrad, ArrayView<float> delta,
        ArrayView<float> kGrad, ArrayView<float> vGrad, AttentionDims d,
        SpecializedValue<int> headDim, SpecializedValue<int> keyBlock, SpecializedValue<int> queryBlock,
        SpecializedValue<int> rowsPerThread, SpecializedValue<int> teamSize)
    {
        int dim = headDim.Value, bc = keyBlock.Value, br = queryBlock.Value, tm = rowsPerThread.Value, team = teamSize.Value;
        int threads = bc / tm * team, queriesPerThread = br / team, channels = dim / team, ld = dim + 1;
        var sK = SharedMemory.Allocate<float>(bc * ld);
        var sV = SharedMemory.Allocate<float>(bc * ld);
        var sQ = SharedMemory.Allocate<float>(br * ld);
        var sDO = SharedMemory.Allocate<float>(br * ld);
        var sP = SharedMemory.Allocate<float>(bc * (br + 1));
        var sDS = SharedMemory.Allocate<float>(bc * (br + 1));
        var sLse = SharedMemory.Allocate<float>(br);
        var sDelta = SharedMemory.Allocate<float>(br);

        var (n, h, first) = GroupBlock(d, d.KeyLength, bc);
        int lane = Group.IdxX % team, row0 = Group.IdxX / team * tm, stride = d.Heads * dim;
        int validKeys = Math.Min(bc, d.KeyLength - first);
        LoadRows(k, d.KeyRow(n, h, first), stride, validKeys, sK, bc, dim, threads);
        LoadRows(v, d.ValueRow(n, h, first), stride, validKeys, sV, bc, dim, threads);
        FlashRows rows = default;
        var scores = new AddScores(sK, ld, queriesPerThread, intoGrads: false);
        var probabilityGrads = new AddScores(sV, ld, queriesPerThread, intoGrads: true);
        var keyProducts = new AddProducts(sDS, br + 1, channels, intoAcc2: false);
        var valueProducts = new AddProducts(sP, br + 1, channels, intoAcc2: true);

        // Under the causal mask key j is seen by queries j.., so blocks of queries before the block of `first` are skipped.
        for (int q0 = d.Causal == 1 ? first / br * br : 0; q0 < d.QueryLength; q0 += br)
        {
            int validQueries = Math.Min(br, d.QueryLength - q0);
            Group.Barrier(); // every thread is done with the previous Q, dO, Pᵀ and dSᵀ
            LoadRows(q, d.QueryRow(n, h, q0), stride, validQueries, sQ, br, dim, threads);
            LoadRows(outputGrad, d.OutputRow(n, h, q0), stride, validQueries, sDO, br, dim, threads);
            for (int c = Group.IdxX; c < br; c += threads)
            {
                int stat = d.Statistic(n, h, q0 + Math.Min(c, validQueries - 1));
                sLse[c] = logSumExp[stat];
                sDelta[c] = delta[stat];
            }
            Group.Barrier();
            for (int e = 0; e < dim; e++)
            {
                scores.Y.Load(sQ, lane * ld + e, team * ld, 0, queriesPerThread);
                scores.Index = row0 * ld + e;
                rows.ForEach(ref scores, tm);
                probabilityGrads.Y.Load(sDO, lane * ld + e, team * ld, 0, queriesPerThread);
                probabilityGrads.Index = row0 * ld + e;
                rows.ForEach(ref probabilityGrads, tm);
            }
            var grads = new ScoreGradients(sP, storeP: true, sDS, row0 * (br + 1) + lane, br + 1, sLse, sDelta,
                ownsQueries: false, first + row0, row0, q0 + lane, d.QueryLength, d.Causal == 1, d.Scale, lane, team, queriesPerThread);
            rows.ForEach(ref grads, tm);
            Group.Barrier();
            for (int c = 0; c < br; c++)
            {
                valueProducts.Z.Load(sDO, c * ld + lane, team, 0, channels);
                valueProducts.Index = row0 * (br + 1) + c;
                rows.ForEach(ref valueProducts, tm);
                keyProducts.Z.Load(sQ, c * ld + lane, team, 0, channels);
                keyProducts.Index = row0 * (br + 1) + c;
                rows.ForEach(ref keyProducts, tm);
            }
        }

        int validRows = d.KeyLength - first - row0;
        var storeK = new StoreAcc(kGrad, d.KeyRow(n, h, first + row0) + lane, stride, validRows, d.Scale,
            normalize: false, fromAcc2: false, team, channels);
        rows.ForEach(ref storeK, tm);
        var storeV = new StoreAcc(vGrad, d.ValueRow(n, h, first + row0) + lane, stride, validRows, 1f,
            normalize: false, fromAcc2: true, team, channels);
        rows.ForEach(ref storeV, tm);
    }
}
