using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Token-embedding lookup and its gradient. The ids are copied to the host and range-checked before any launch
/// (an out-of-range id would read outside the table); the backward groups positions by id on the host, so each
/// (id, channel) is summed by one thread in position order: deterministic, and cheap for a 49408-row table.
/// A lookup may extend the table with a few extra rows (the concept tokens appended after the vocabulary), read in
/// place so the large table is never copied.
/// </summary>
public static class Embedding
{
    /// <summary>Validated operands of a gather: ids below the table's row count read it, the others read ExtraRows.</summary>
    internal readonly record struct GatherArgs(Tensor Ids, Tensor Table, Tensor? ExtraRows, Tensor Output);

    /// <summary>Validated operands of a scatter-add: gradRows[Targets[g], :] += Σ over Positions of group g.</summary>
    internal readonly record struct ScatterArgs(Tensor GradOutput, EmbeddingGroups Groups, Tensor GradRows);

    private static readonly OpDispatcher<GatherArgs> gatherDispatcher =
        new(new KernelVariant<GatherArgs>("embedding-gather-portable", KernelTier.Portable, (_, _) => true, LaunchGatherPortable));

    private static readonly OpDispatcher<ScatterArgs> scatterDispatcher =
        new(new KernelVariant<ScatterArgs>("embedding-scatter-portable", KernelTier.Portable, (_, _) => true, LaunchScatterPortable));

    /// <summary>
    /// Rows of <paramref name="table"/> [V, C] (F32, or F16 widened exactly) picked by <paramref name="ids"/> (I32,
    /// any shape, e.g. [N, L]), as a new F32 tensor of shape [..ids, C]. With <paramref name="extraRows"/> [k, C]
    /// (F32) the vocabulary is extended: id V + r picks extraRows[r]. Waits for the ids to reach the host.
    /// </summary>
    /// <exception cref="ArgumentException">A dtype, shape or device does not match, or an id is outside [0, V + k).</exception>
    public static Tensor Gather(Tensor ids, Tensor table, Tensor? extraRows = null)
    {
        const string op = nameof(Embedding) + "." + nameof(Gather);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(table);
        Require.DType(op, nameof(ids), ids, DType.I32);
        if (table.DType is not (DType.F32 or DType.F16))
            throw new ArgumentException($"{op}: table is {table.DType} {table.Shape}, expected F32 or F16.", nameof(table));
        Require.Rank(op, nameof(table), table, 2);
        Require.SameDevice(op, nameof(table), table, ids.Device);
        int extra = 0;
        if (extraRows is not null)
        {
            Require.DType(op, nameof(extraRows), extraRows, DType.F32);
            Require.Rank(op, nameof(extraRows), extraRows, 2);
            Require.SameDevice(op, nameof(extraRows), extraRows, ids.Device);
            if (extraRows.Shape[1] != table.Shape[1])
                throw new ArgumentException($"{op}: extraRows {extraRows.Shape} must have the table's {table.Shape[1]} channels.", nameof(extraRows));
            extra = extraRows.Shape[0];
        }
        RequireIdsInRange(op, ids.ToIntArray(), table.Shape[0] + extra);
        var output = Tensor.Empty(ids.Device, DType.F32, [.. ids.Shape.ToArray(), table.Shape[1]]);
        gatherDispatcher.Launch(ids.Device, new GatherArgs(ids, table, extraRows, output));
        return output;
    }

    /// <summary>
    /// The gradient of <see cref="Gather"/>: <paramref name="gradTable"/>[id, :] += Σ of the rows of
    /// <paramref name="gradOutput"/> [..ids, C] at the positions holding id, for every id present.
    /// </summary>
    /// <exception cref="ArgumentException">A dtype, shape or device does not match, or an id is outside [0, V).</exception>
    public static void ScatterAdd(Tensor ids, Tensor gradOutput, Tensor gradTable)
    {
        const string op = nameof(Embedding) + "." + nameof(ScatterAdd);
        CheckScatter(op, ids, gradOutput, gradTable);
        var hostIds = ids.ToIntArray();
        RequireIdsInRange(op, hostIds, gradTable.Shape[0]);
        Scatter(gradOutput, EmbeddingGroups.ById(hostIds), gradTable);
    }

    /// <summary>
    /// The gradient of <see cref="Gather"/> for a few trainable rows only (the concept tokens):
    /// <paramref name="gradRows"/>[r, :] += Σ of the rows of <paramref name="gradOutput"/> at the positions holding
    /// id <paramref name="rows"/>[r]. Other ids are ignored; the full [V, C] gradient is never formed.
    /// </summary>
    /// <exception cref="ArgumentException">A dtype, shape or device does not match, or the rows are negative or repeated.</exception>
    public static void ScatterAddRows(Tensor ids, Tensor gradOutput, IReadOnlyList<int> rows, Tensor gradRows)
    {
        const string op = nameof(Embedding) + "." + nameof(ScatterAddRows);
        ArgumentNullException.ThrowIfNull(rows);
        CheckScatter(op, ids, gradOutput, gradRows);
        if (rows.Count != gradRows.Shape[0])
            throw new ArgumentException($"{op}: gradRows has shape {gradRows.Shape}, expected [{rows.Count}, C] for {rows.Count} row(s).", nameof(gradRows));
        if (rows.Any(r => r < 0) || rows.Distinct().Count() != rows.Count)
            throw new ArgumentException($"{op}: rows [{string.Join(", ", rows)}] must be distinct ids ≥ 0.", nameof(rows));
        Scatter(gradOutput, EmbeddingGroups.ForRows(ids.ToIntArray(), rows), gradRows);
    }

    private static void CheckScatter(string op, Tensor ids, Tensor gradOutput, Tensor gradRows)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(gradOutput);
        ArgumentNullException.ThrowIfNull(gradRows);
        Require.DType(op, nameof(ids), ids, DType.I32);
        Require.DType(op, nameof(gradOutput), gradOutput, DType.F32);
        Require.DType(op, nameof(gradRows), gradRows, DType.F32);
        Require.SameDevice(op, nameof(gradOutput), gradOutput, ids.Device);
        Require.SameDevice(op, nameof(gradRows), gradRows, ids.Device);
        Require.Rank(op, nameof(gradRows), gradRows, 2);
        Require.Shape(op, nameof(gradOutput), gradOutput, [.. ids.Shape.ToArray(), gradRows.Shape[1]]);
    }

    private static void RequireIdsInRange(string op, int[] ids, int vocabulary)
    {
        for (int p = 0; p < ids.Length; p++)
            if ((uint)ids[p] >= (uint)vocabulary)
                throw new ArgumentException($"{op}: ids[{p}] = {ids[p]} is outside the table's rows 0..{vocabulary - 1}.", "ids");
    }

    private static void Scatter(Tensor gradOutput, EmbeddingGroups groups, Tensor gradRows)
    {
        if (groups.Count == 0) return;
        scatterDispatcher.Launch(gradOutput.Device, new ScatterArgs(gradOutput, groups, gradRows));
    }

    private static void LaunchGatherPortable(Device device, GatherArgs a)
    {
        var extent = new Index1D(a.Output.Count);
        var extra = a.ExtraRows is null ? ArrayView<float>.Empty : a.ExtraRows.F32View;
        int vocabulary = a.Table.Shape[0], channels = a.Table.Shape[1];
        if (a.Table.DType == DType.F16)
            device.Accelerator.LaunchAutoGrouped(GatherKernel<Half, WidenF16>, device.Stream, extent, a.Ids.I32View,
                a.Table.F16View, vocabulary, channels, extra, a.Output.F32View);
        else
            device.Accelerator.LaunchAutoGrouped(GatherKernel<float, WidenF32>, device.Stream, extent, a.Ids.I32View,
                a.Table.F32View, vocabulary, channels, extra, a.Output.F32View);
    }

    private static void LaunchScatterPortable(Device device, ScatterArgs a)
    {
        var g = a.Groups;
        using var targets = Tensor.FromHost(device, g.Targets, g.Count);
        using var starts = Tensor.FromHost(device, g.Starts, g.Count + 1);
        using var positions = Tensor.FromHost(device, g.Positions, g.Positions.Length);
        int channels = a.GradRows.Shape[1];
        device.Accelerator.LaunchAutoGrouped(
            ScatterAddKernel, device.Stream, new Index1D(g.Count * channels),
            a.GradOutput.F32View, targets.I32View, starts.I32View, positions.I32View, channels, a.GradRows.F32View);
    }

    /// <summary>
    /// One thread per output element (position p, channel c): row ids[p] of the F32 or F16 table (widened by
    /// <typeparamref name="TWiden"/>); an id ≥ <paramref name="vocabulary"/> reads row id − vocabulary of
    /// <paramref name="extraRows"/> instead.
    /// </summary>
    [Kernel(typeof(float), typeof(WidenF32)), Kernel(typeof(Half), typeof(WidenF16))]
    internal static void GatherKernel<T, TWiden>(
        Index1D i, ArrayView<int> ids, ArrayView<T> table, int vocabulary, int channels, ArrayView<float> extraRows,
        ArrayView<float> output)
        where T : unmanaged
        where TWiden : struct, IWiden<T>
    {
        int id = ids[i / channels], c = i % channels;
        output[i] = id >= vocabulary
            ? extraRows[(id - vocabulary) * channels + c]
            : default(TWiden).ToFloat(table[id * channels + c]);
    }

    /// <summary>
    /// One thread per (group g, channel c): gradRows[targets[g], c] += Σ, in position order, of
    /// gradOutput[p, c] over the positions p of group g.
    /// </summary>
    [Kernel]
    internal static void ScatterAddKernel(
        Index1D i, ArrayView<float> gradOutput, ArrayView<int> targets, ArrayView<int> starts, ArrayView<int> positions,
        int channels, ArrayView<float> gradRows)
    {
        int group = i / channels, c = i % channels;
        float sum = 0f;
        for (int q = starts[group]; q < starts[group + 1]; q++) sum += gradOutput[positions[q] * channels + c];
        gradRows[targets[group] * channels + c] += sum;
    }
}
