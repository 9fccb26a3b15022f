using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Kernels;

public class PermuteTests
{
    private readonly Device device = Devices.Portable;

    public static TheoryData<int[]> Shapes() => new() { new[] { 7 }, new[] { 3, 5 }, new[] { 2, 1, 5 }, new[] { 2, 3, 4, 5 } };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Every_permutation_matches_a_host_gather(int[] shape)
    {
        var x = Reference.RandomNormal(shape.Aggregate(1, (a, b) => a * b), 11 + shape.Length);
        using var t = Tensor.FromHost(device, x, shape);
        foreach (var axes in Permutations(shape.Length))
        {
            using var y = Permute.Apply(t, axes);
            Assert.Equal(new Shape(axes.Select(a => shape[a]).ToArray()), y.Shape);
            Assert.Equal(HostPermute(x, shape, axes), y.ToFloatArray());   // a gather: exact
        }
    }

    [Fact]
    public void Half_and_int_tensors_permute_exactly()
    {
        int[] shape = [2, 3, 4, 5];
        int[] axes = [0, 2, 1, 3];
        var x = Reference.RandomNormal(120, 12);
        var ids = Enumerable.Range(49_000, 120).ToArray();
        var halves = x.Select(v => (System.Half)v).ToArray();
        using var ti = Tensor.FromHost(device, ids, shape);
        using var th = Tensor.FromHost(device, halves, shape);
        using var pi = Permute.Apply(ti, axes);
        using var ph = Permute.Apply(th, axes);
        Assert.Equal(HostPermute(ids, shape, axes), pi.ToIntArray());
        Assert.Equal(HostPermute(halves, shape, axes), ph.ToHalfArray());
    }

    [Fact]
    public void Transpose_swaps_rows_and_columns()
    {
        var x = Reference.RandomNormal(21, 13);
        using var t = Tensor.FromHost(device, x, 3, 7);
        using var y = Permute.Transpose(t);
        Assert.Equal(new Shape(7, 3), y.Shape);
        var got = y.ToFloatArray();
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 7; c++)
                Assert.Equal(x[r * 7 + c], got[c * 3 + r]);
    }

    [Fact]
    public void Bad_axes_and_ranks_are_refused()
    {
        using var x = Tensor.Zeros(device, DType.F32, 2, 3, 4);
        using var five = Tensor.Zeros(device, DType.F32, 1, 2, 1, 2, 1);
        Assert.Equal("axes", Assert.Throws<ArgumentException>(() => Permute.Apply(x, 0, 1)).ParamName);
        Assert.Equal("axes", Assert.Throws<ArgumentException>(() => Permute.Apply(x, 0, 1, 1)).ParamName);
        Assert.Equal("axes", Assert.Throws<ArgumentException>(() => Permute.Apply(x, 0, 1, 3)).ParamName);
        Assert.Equal("axes", Assert.Throws<ArgumentException>(() => Permute.Apply(x, -1, 0, 1)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Permute.Apply(five, 0, 1, 2, 3, 4)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => Permute.Transpose(x)).ParamName);
    }

    /// <summary>y[o] = x[i] where the output multi-index o_k is the input index on axis axes[k].</summary>
    private static T[] HostPermute<T>(T[] x, int[] shape, int[] axes)
    {
        int rank = shape.Length;
        var outShape = axes.Select(a => shape[a]).ToArray();
        var y = new T[x.Length];
        var index = new int[rank];
        for (int o = 0; o < y.Length; o++)
        {
            for (int k = rank - 1, rest = o; k >= 0; rest /= outShape[k], k--) index[axes[k]] = rest % outShape[k];
            int flat = 0;
            for (int k = 0; k < rank; k++) flat = flat * shape[k] + index[k];
            y[o] = x[flat];
        }
        return y;
    }

    private static IEnumerable<int[]> Permutations(int n) =>
        n == 1 ? [[0]] : Permutations(n - 1).SelectMany(p => Enumerable.Range(0, n).Select(pos => p.Take(pos).Append(n - 1).Concat(p.Skip(pos)).ToArray()));
}
