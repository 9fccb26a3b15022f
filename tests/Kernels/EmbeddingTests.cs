using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

public class EmbeddingTests(ITestOutputHelper output)
{
    private const int V = 11, C = 5, N = 2, L = 3;
    private static readonly int[] Ids = [4, 0, 4, 10, 7, 4]; // repeats, first and last rows

    private readonly Device device = Devices.Portable;

    /// <summary>The host gather in float64: row ids[p] of the table for each position p.</summary>
    private static double[] HostGather(int[] ids, double[] table)
        => [.. ids.SelectMany(id => table.Skip(id * C).Take(C))];

    [Fact]
    public void Gather_copies_the_rows_of_an_f32_table()
    {
        var table = Reference.RandomNormal(V * C, 1);
        using var tTable = Tensor.FromHost(device, table, V, C);
        using var ids = Tensor.FromHost(device, Ids, N, L);
        using var rows = Embedding.Gather(ids, tTable);
        Assert.Equal(new Shape(N, L, C), rows.Shape);
        Assert.Equal(HostGather(Ids, [.. table.Select(v => (double)v)]).Select(v => (float)v), rows.ToFloatArray()); // a copy: exact
    }

    [Fact]
    public void Gather_widens_an_f16_table_exactly()
    {
        var table = Reference.RandomNormal(V * C, 2).Select(v => (System.Half)v).ToArray();
        using var tTable = Tensor.FromHost(device, table, V, C);
        using var ids = Tensor.FromHost(device, Ids, N * L);
        using var rows = Embedding.Gather(ids, tTable);
        Assert.Equal(new Shape(N * L, C), rows.Shape);
        Assert.Equal(HostGather(Ids, [.. table.Select(v => (double)v)]).Select(v => (float)v), rows.ToFloatArray()); // f16 → f32 is exact
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gather_reads_ids_past_the_table_from_the_extra_rows(bool halfTable)
    {
        // Ids 11 and 12 are the appended rows 0 and 1 (concept tokens); the table is read in place.
        int[] ids = [11, 4, 12, 0, 11, 10];
        var table = Reference.RandomNormal(V * C, 11).Select(v => halfTable ? (float)(System.Half)v : v).ToArray();
        var extra = Reference.RandomNormal(2 * C, 12);
        using var tTable = halfTable ? Tensor.FromHost(device, table.Select(v => (System.Half)v).ToArray(), V, C) : Tensor.FromHost(device, table, V, C);
        using var tExtra = Tensor.FromHost(device, extra, 2, C);
        using var tIds = Tensor.FromHost(device, ids, N, L);
        using var rows = Embedding.Gather(tIds, tTable, tExtra);
        Assert.Equal(new Shape(N, L, C), rows.Shape);
        double[] extended = [.. table.Concat(extra).Select(v => (double)v)];
        Assert.Equal(HostGather(ids, extended).Select(v => (float)v), rows.ToFloatArray()); // copies: exact

        using var pastTheEnd = Tensor.FromHost(device, [13], 1);
        using var narrow = Tensor.FromHost(device, Reference.RandomNormal(2 * (C - 1), 13), 2, C - 1);
        Assert.Contains("ids[0] = 13", Assert.Throws<ArgumentException>(() => Embedding.Gather(pastTheEnd, tTable, tExtra)).Message);
        Assert.Equal("extraRows", Assert.Throws<ArgumentException>(() => Embedding.Gather(tIds, tTable, narrow)).ParamName);
    }

    [Fact]
    public void ScatterAdd_matches_finite_differences_of_the_gather_and_adds_into_the_gradient()
    {
        var table = Reference.RandomNormal(V * C, 3);
        var gradOutput = Reference.RandomNormal(N * L * C, 4);
        var old = Reference.RandomNormal(V * C, 5);
        using var ids = Tensor.FromHost(device, Ids, N, L);
        using var tGradOutput = Tensor.FromHost(device, gradOutput, N, L, C);
        using var gradTable = Tensor.FromHost(device, old, V, C);
        Embedding.ScatterAdd(ids, tGradOutput, gradTable);

        var fd = FiniteDifference.Gradient(t => HostGather(Ids, t), [.. table.Select(v => (double)v)], [.. gradOutput.Select(v => (double)v)]);
        var added = gradTable.ToFloatArray().Select((g, i) => g - old[i]).ToArray();
        double error = Reference.RelativeError(added, fd);
        output.WriteLine($"scatter-add vs finite differences: relative error {error:E2}");
        Assert.True(error <= 1e-5, $"relative error {error:E2}"); // sums of ≤ 3 f32 terms, then old + sum − old
        for (int row = 0; row < V; row++)
            if (!Ids.Contains(row))
                Assert.Equal(old.Skip(row * C).Take(C), gradTable.ToFloatArray().Skip(row * C).Take(C)); // untouched rows
    }

    [Fact]
    public void ScatterAddRows_accumulates_only_the_listed_rows_in_a_compact_gradient()
    {
        var gradOutput = Reference.RandomNormal(N * L * C, 6);
        int[] rows = [7, 4, 9]; // 9 does not occur
        var old = Reference.RandomNormal(rows.Length * C, 7);
        using var ids = Tensor.FromHost(device, Ids, N, L);
        using var tGradOutput = Tensor.FromHost(device, gradOutput, N, L, C);
        using var gradRows = Tensor.FromHost(device, old, rows.Length, C);
        Embedding.ScatterAddRows(ids, tGradOutput, rows, gradRows);

        var expected = new double[rows.Length * C];
        for (int r = 0; r < rows.Length; r++)
            for (int c = 0; c < C; c++)
            {
                expected[r * C + c] = old[r * C + c];
                for (int p = 0; p < Ids.Length; p++)
                    if (Ids[p] == rows[r]) expected[r * C + c] += gradOutput[p * C + c];
            }
        double error = Reference.RelativeError(gradRows.ToFloatArray(), expected);
        output.WriteLine($"scatter-add rows: relative error {error:E2}");
        Assert.True(error <= 1e-6, $"relative error {error:E2}"); // a few f32 additions
        Assert.Equal(old.Skip(2 * C), gradRows.ToFloatArray().Skip(2 * C)); // absent row untouched
    }

    [Fact]
    public void Out_of_range_ids_and_bad_shapes_are_refused_before_launch()
    {
        using var table = Tensor.FromHost(device, Reference.RandomNormal(V * C, 8), V, C);
        using var tooLarge = Tensor.FromHost(device, [1, V], 2);
        using var negative = Tensor.FromHost(device, [-1], 1);
        using var ids = Tensor.FromHost(device, Ids, N, L);
        using var floatIds = Tensor.FromHost(device, Reference.RandomNormal(2, 9), 2);
        using var intTable = Tensor.FromHost(device, Enumerable.Range(0, V * C).ToArray(), V, C);
        using var gradOutput = Tensor.FromHost(device, Reference.RandomNormal(N * L * C, 10), N, L, C);
        using var wrongGradOutput = Tensor.FromHost(device, Reference.RandomNormal(N * L * C, 10), L, N, C);
        using var gradTable = Tensor.Zeros(device, DType.F32, V, C);
        using var gradRows = Tensor.Zeros(device, DType.F32, 2, C);
        using var twoGradRows = Tensor.Zeros(device, DType.F32, 2, C);
        string Param(Action a) => Assert.Throws<ArgumentException>(a).ParamName!;

        var e = Assert.Throws<ArgumentException>(() => Embedding.Gather(tooLarge, table));
        Assert.Contains("ids[1] = 11", e.Message);
        Assert.Equal("ids", Param(() => Embedding.Gather(negative, table)));
        Assert.Equal("ids", Param(() => Embedding.Gather(floatIds, table)));
        Assert.Equal("table", Param(() => Embedding.Gather(ids, intTable)));
        Assert.Equal("ids", Param(() => Embedding.ScatterAdd(tooLarge, twoGradRows, gradTable)));
        Assert.Equal("gradOutput", Param(() => Embedding.ScatterAdd(ids, wrongGradOutput, gradTable)));
        Assert.Equal("rows", Param(() => Embedding.ScatterAddRows(ids, gradOutput, [4, 4], gradRows)));
        Assert.Equal("gradRows", Param(() => Embedding.ScatterAddRows(ids, gradOutput, [4], gradRows)));
    }
}
