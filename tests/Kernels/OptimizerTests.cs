using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

public class OptimizerTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.Portable;

    private static readonly AdamWSettings Settings = new(LearningRate: 1e-2f, Beta1: 0.9f, Beta2: 0.99f, Epsilon: 1e-8f, WeightDecay: 0.05f);

    /// <summary>torch.optim.AdamW's update in float64 (decoupled decay, bias-corrected moments), in place.</summary>
    private static void HostAdamW(double[] p, double[] m, double[] v, float[] grad, double gradScale, AdamWSettings s, int step)
    {
        double bias1 = 1 - Math.Pow(s.Beta1, step), bias2 = 1 - Math.Pow(s.Beta2, step);
        for (int i = 0; i < p.Length; i++)
        {
            double g = grad[i] * gradScale;
            p[i] *= 1 - (double)s.LearningRate * s.WeightDecay;
            m[i] = s.Beta1 * m[i] + (1 - (double)s.Beta1) * g;
            v[i] = s.Beta2 * v[i] + (1 - (double)s.Beta2) * g * g;
            p[i] -= s.LearningRate / bias1 * m[i] / (Math.Sqrt(v[i]) / Math.Sqrt(bias2) + s.Epsilon);
        }
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(37, true)]
    public void Five_adamw_steps_match_float64(int n, bool scaled)
    {
        var p0 = Reference.RandomNormal(n, 100 + n);
        var m0 = Reference.RandomNormal(n, 200 + n).Select(x => 0.1f * x).ToArray();
        var v0 = Reference.RandomNormal(n, 300 + n).Select(x => 0.01f * x * x).ToArray();
        double[] p = [.. p0.Select(x => (double)x)], m = [.. m0.Select(x => (double)x)], v = [.. v0.Select(x => (double)x)];
        using var tp = Tensor.FromHost(device, p0, n);
        using var tm = Tensor.FromHost(device, m0, n);
        using var tv = Tensor.FromHost(device, v0, n);
        using var tg = Tensor.Empty(device, DType.F32, n);
        using var scale = Tensor.FromHost(device, [0.37f], 1);
        for (int step = 1; step <= 5; step++)
        {
            var g = Reference.RandomNormal(n, 400 + 10 * n + step);
            tg.CopyFromHost(g);
            Optimizer.AdamWStep(tp, tg, tm, tv, Settings, step, scaled ? scale : null);
            HostAdamW(p, m, v, g, scaled ? 0.37f : 1.0, Settings, step);
        }
        double ep = Reference.RelativeError(tp.ToFloatArray(), p), em = Reference.RelativeError(tm.ToFloatArray(), m),
            ev = Reference.RelativeError(tv.ToFloatArray(), v);
        output.WriteLine($"n={n} scaled={scaled}: relative error p {ep:E2}, m {em:E2}, v {ev:E2}");
        // f32 state over five steps: each element carries a few roundings per step.
        Assert.True(ep <= 1e-5 && em <= 1e-5 && ev <= 1e-5, $"p {ep:E2}, m {em:E2}, v {ev:E2}");
    }

    [Fact]
    public void A_row_slice_updates_only_that_row_with_state_of_its_size()
    {
        const int rows = 6, width = 5, row = 3;
        var table = Reference.RandomNormal(rows * width, 11);
        var grad = Reference.RandomNormal(rows * width, 12);
        using var tTable = Tensor.FromHost(device, table, rows, width);
        using var tGrad = Tensor.FromHost(device, grad, rows, width);
        using var m = Tensor.Zeros(device, DType.F32, width);
        using var v = Tensor.Zeros(device, DType.F32, width);
        Optimizer.AdamWStep(TensorSlice.Row(tTable, row), TensorSlice.Row(tGrad, row), m, v, Settings, step: 1);

        double[] p = [.. table.Skip(row * width).Take(width).Select(x => (double)x)], hm = new double[width], hv = new double[width];
        HostAdamW(p, hm, hv, grad.Skip(row * width).Take(width).ToArray(), 1, Settings, 1);
        var got = tTable.ToFloatArray();
        for (int i = 0; i < table.Length; i++)
            if (i / width != row) Assert.Equal(table[i], got[i]);
        double error = Reference.RelativeError(got.AsSpan(row * width, width), p);
        output.WriteLine($"row slice: relative error {error:E2}");
        Assert.True(error <= 1e-6, $"relative error {error:E2}"); // one step: a few roundings
    }

    [Fact]
    public void Global_norm_matches_float64_and_is_deterministic()
    {
        var a = Reference.RandomNormal(7, 21);
        var b = Reference.RandomNormal(300, 22);
        var c = Reference.RandomNormal(6 * 100, 23);
        using var ta = Tensor.FromHost(device, a, 7);
        using var tb = Tensor.FromHost(device, b, 300);
        using var tc = Tensor.FromHost(device, c, 6, 100);
        var slices = new TensorSlice[] { ta, tb, TensorSlice.Row(tc, 2), new(tc, 513, 87) };
        double expected = Math.Sqrt(a.Concat(b).Concat(c.Skip(200).Take(100)).Concat(c.Skip(513))
            .Sum(x => (double)x * x));
        using var norm = GradientClipping.GlobalNorm(slices);
        using var again = GradientClipping.GlobalNorm(slices);
        float got = norm.ToFloatArray().Single();
        double error = Math.Abs(got - expected) / expected;
        output.WriteLine($"global norm: relative error {error:E2}");
        Assert.True(error <= 1e-6, $"norm {got} vs {expected}"); // chunked f32 sums of ~1000 positive terms
        Assert.Equal(got, again.ToFloatArray().Single());
    }

    [Theory]
    [InlineData(5f, 2f)]
    [InlineData(0.5f, 2f)]
    public void Clip_scale_is_torch_clip_coefficient_clamped_to_one(float norm, float maxNorm)
    {
        using var tNorm = Tensor.FromHost(device, [norm], 1);
        using var scale = GradientClipping.ClipScale(tNorm, maxNorm);
        float expected = Math.Min(1f, maxNorm / (norm + 1e-6f));
        Assert.Equal(expected, scale.ToFloatArray().Single());
    }

    [Fact]
    public void Bad_operands_and_settings_are_refused_before_launch()
    {
        using var p = Tensor.FromHost(device, Reference.RandomNormal(4, 1), 4);
        using var g = Tensor.FromHost(device, Reference.RandomNormal(4, 2), 4);
        using var m = Tensor.Zeros(device, DType.F32, 4);
        using var shortV = Tensor.Zeros(device, DType.F32, 3);
        using var half = Tensor.Zeros(device, DType.F16, 4);
        using var twoScales = Tensor.Zeros(device, DType.F32, 2);
        Assert.Equal("v", Assert.Throws<ArgumentException>(() => Optimizer.AdamWStep(p, g, m, shortV, Settings, 1)).ParamName);
        Assert.Equal("grad", Assert.Throws<ArgumentException>(() => Optimizer.AdamWStep(p, half, m, m, Settings, 1)).ParamName);
        Assert.Equal("step", Assert.Throws<ArgumentException>(() => Optimizer.AdamWStep(p, g, m, m, Settings, 0)).ParamName);
        Assert.Equal("gradScale", Assert.Throws<ArgumentException>(() => Optimizer.AdamWStep(p, g, m, m, Settings, 1, twoScales)).ParamName);
        Assert.Equal("Beta2", Assert.Throws<ArgumentException>(() => Optimizer.AdamWStep(p, g, m, m, Settings with { Beta2 = 1f }, 1)).ParamName);
        Assert.Equal("LearningRate", Assert.Throws<ArgumentException>(() => Optimizer.AdamWStep(p, g, m, m, Settings with { LearningRate = float.NaN }, 1)).ParamName);
        Assert.Throws<ArgumentException>(() => new TensorSlice(p, 2, 3));
        Assert.Equal("row", Assert.Throws<ArgumentException>(() => TensorSlice.Row(p, 4)).ParamName);
        Assert.Equal("norm", Assert.Throws<ArgumentException>(() => GradientClipping.ClipScale(twoScales, 1f)).ParamName);
        using var one = Tensor.FromHost(device, [1f], 1);
        Assert.Equal("maxNorm", Assert.Throws<ArgumentException>(() => GradientClipping.ClipScale(one, 0f)).ParamName);
        Assert.Equal("gradients", Assert.Throws<ArgumentException>(() => GradientClipping.GlobalNorm([])).ParamName);
    }
}
