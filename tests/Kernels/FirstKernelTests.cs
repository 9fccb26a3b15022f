using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.Kernels;

public class FirstKernelTests
{
    private readonly Device device = Devices.Portable;

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1023)]
    public void Fill_add_and_scale_match_float64(int n)
    {
        var a = Reference.RandomNormal(n, 10 + n);
        var b = Reference.RandomNormal(n, 20 + n);
        using var ta = Tensor.FromHost(device, a, n);
        using var tb = Tensor.FromHost(device, b, n);
        using var sum = Tensor.Empty(device, DType.F32, n);
        Elementwise.Add(ta, tb, sum);
        Assert.True(Reference.RelativeError(sum.ToFloatArray(), a.Select((v, i) => (double)v + b[i]).ToArray()) <= 1e-7);

        Elementwise.Scale(ta, -2.5f, ta);
        Assert.True(Reference.RelativeError(ta.ToFloatArray(), a.Select(v => -2.5 * v).ToArray()) <= 1e-7);

        Elementwise.Fill(tb, 0.75f);
        Assert.All(tb.ToFloatArray(), v => Assert.Equal(0.75f, v));
    }

    [Fact]
    public void Mismatched_operands_are_refused_before_launch()
    {
        using var a = Tensor.Zeros(device, DType.F32, 4, 3);
        using var b = Tensor.Zeros(device, DType.F32, 3, 4);
        using var h = Tensor.Zeros(device, DType.F16, 4, 3);
        var e = Assert.Throws<ArgumentException>(() => Elementwise.Add(a, b, a));
        Assert.Contains("[3, 4]", e.Message);
        Assert.Throws<ArgumentException>(() => Elementwise.Add(a, h, a));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(255)]
    [InlineData(257)]
    [InlineData(70_001)]
    public void Sum_matches_float64_and_is_deterministic(int n)
    {
        var x = Reference.RandomNormal(n, 30 + n);
        using var t = Tensor.FromHost(device, x, n);
        using var s1 = Reduce.Sum(t);
        using var s2 = Reduce.Sum(t);
        double expected = x.Sum(v => (double)v), scale = x.Sum(v => Math.Abs((double)v));
        float got = s1.ToFloatArray().Single();
        Assert.True(Math.Abs(got - expected) <= 1e-6 * scale, $"sum {got} vs {expected}");
        Assert.Equal(got, s2.ToFloatArray().Single());
    }

    [Fact]
    public void Layout_conversion_matches_a_host_permutation_for_every_dtype()
    {
        int n = 2, c = 3, h = 4, w = 5;
        var x = Reference.RandomNormal(n * c * h * w, 40);
        var expected = new float[x.Length];
        for (int in_ = 0; in_ < n; in_++)
            for (int ic = 0; ic < c; ic++)
                for (int ih = 0; ih < h; ih++)
                    for (int iw = 0; iw < w; iw++)
                        expected[((in_ * h + ih) * w + iw) * c + ic] = x[((in_ * c + ic) * h + ih) * w + iw];

        using var t = Tensor.FromHost(device, x, n, c, h, w);
        using var nhwc = Layout.NchwToNhwc(t);
        Assert.Equal(new Shape(n, h, w, c), nhwc.Shape);
        Assert.Equal(expected, nhwc.ToFloatArray());
        using var back = Layout.NhwcToNchw(nhwc);
        Assert.Equal(x, back.ToFloatArray());

        var ids = Enumerable.Range(49_000, x.Length).ToArray();
        using var ti = Tensor.FromHost(device, ids, n, c, h, w);
        using var ni = Layout.NchwToNhwc(ti);
        Assert.Equal(expected.Select(v => ids[Array.IndexOf(x, v)]).ToArray(), ni.ToIntArray());

        var halves = x.Select(v => (System.Half)v).ToArray();
        using var th = Tensor.FromHost(device, halves, n, c, h, w);
        using var nh = Layout.NchwToNhwc(th);
        Assert.Equal(expected.Select(v => (System.Half)v).ToArray(), nh.ToHalfArray());
    }

    [Fact]
    public void Every_kernel_like_method_is_registered()
    {
        Assert.Empty(KernelRegistry.FindUnregistered().Select(m => $"{m.DeclaringType!.Name}.{m.Name}"));
        Assert.Contains(KernelRegistry.All, e => e.Name.StartsWith("Permute.", StringComparison.Ordinal) && e.Name.Contains("Half"));
    }
}
