using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

public class AttentionTests(ITestOutputHelper log)
{
    private readonly Device device = Devices.Portable;

    /// <summary>One attention problem: batch, heads, head dims of q/k and v, query and key lengths, mask.</summary>
    public sealed record Case(int N, int H, int D, int Dv, int Lq, int Lk, bool Causal)
    {
        public int QCount => N * Lq * H * D;
        public int KCount => N * Lk * H * D;
        public int VCount => N * Lk * H * Dv;
        public int OCount => N * Lq * H * Dv;
        public double DefaultScale => 1.0 / Math.Sqrt(D);
    }

    public static TheoryData<int, int, int, int, int, int, bool> Shapes => new()
    {
        { 2, 3, 4, 4, 5, 7, false },   // cross-attention, Lk ≠ Lq
        { 2, 3, 4, 4, 6, 6, false },   // self-attention
        { 2, 3, 4, 4, 5, 5, true },    // causal
        { 2, 3, 1, 1, 5, 7, false },   // D = 1
        { 1, 2, 3, 5, 4, 3, false },   // Dv ≠ D, odd sizes
        { 2, 2, 3, 2, 1, 1, true },    // one token
        { 1, 1, 6, 6, 3, 9, false },   // one head
    };

    /// <summary>softmax(q kᵀ · scale) v per (n, h) in float64, straight from the definition; fills lse if given.</summary>
    private static double[] HostAttention(Case c, double[] q, double[] k, double[] v, double scale, double[]? lse = null)
    {
        var o = new double[c.OCount];
        for (int n = 0; n < c.N; n++)
            for (int h = 0; h < c.H; h++)
                for (int i = 0; i < c.Lq; i++)
                {
                    int keys = c.Causal ? i + 1 : c.Lk;
                    var s = new double[keys];
                    for (int j = 0; j < keys; j++)
                        for (int d = 0; d < c.D; d++)
                            s[j] += scale * q[((n * c.Lq + i) * c.H + h) * c.D + d] * k[((n * c.Lk + j) * c.H + h) * c.D + d];
                    double max = s.Max(), sum = s.Sum(x => Math.Exp(x - max));
                    if (lse is not null) lse[(n * c.H + h) * c.Lq + i] = max + Math.Log(sum);
                    for (int e = 0; e < c.Dv; e++)
                    {
                        double acc = 0;
                        for (int j = 0; j < keys; j++)
                            acc += Math.Exp(s[j] - max) / sum * v[((n * c.Lk + j) * c.H + h) * c.Dv + e];
                        o[((n * c.Lq + i) * c.H + h) * c.Dv + e] = acc;
                    }
                }
        return o;
    }

    private static double[] Wide(float[] x) => x.Select(a => (double)a).ToArray();

    private (float[] O, float[] Lse) RunForward(Case c, float[] q, float[] k, float[] v, float? scale)
    {
        using var tq = Tensor.FromHost(device, q, c.N, c.Lq, c.H * c.D);
        using var tk = Tensor.FromHost(device, k, c.N, c.Lk, c.H * c.D);
        using var tv = Tensor.FromHost(device, v, c.N, c.Lk, c.H * c.Dv);
        using var to = Tensor.Empty(device, DType.F32, c.N, c.Lq, c.H * c.Dv);
        using var tl = Tensor.Empty(device, DType.F32, c.N, c.H, c.Lq);
        Attention.Forward(tq, tk, tv, to, tl, c.H, scale, c.Causal);
        return (to.ToFloatArray(), tl.ToFloatArray());
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_and_logsumexp_match_float64(int n, int h, int d, int dv, int lq, int lk, bool causal)
    {
        var c = new Case(n, h, d, dv, lq, lk, causal);
        var q = Reference.RandomNormal(c.QCount, 1);
        var k = Reference.RandomNormal(c.KCount, 2);
        var v = Reference.RandomNormal(c.VCount, 3);
        var lse = new double[n * h * lq];
        var expected = HostAttention(c, Wide(q), Wide(k), Wide(v), c.DefaultScale, lse);

        var (o, l) = RunForward(c, q, k, v, scale: null);

        double errO = Reference.RelativeError(o, expected), errL = Reference.RelativeError(l, lse);
        log.WriteLine($"output {errO:E2}, logsumexp {errL:E2}");
        Assert.True(errO <= 1e-5, $"output relative error {errO:E2} > 1e-5");
        Assert.True(errL <= 1e-5, $"logsumexp relative error {errL:E2} > 1e-5");
    }

    [Fact]
    public void Explicit_scale_is_used()
    {
        var c = new Case(2, 3, 4, 4, 5, 7, false);
        var q = Reference.RandomNormal(c.QCount, 4);
        var k = Reference.RandomNormal(c.KCount, 5);
        var v = Reference.RandomNormal(c.VCount, 6);
        var expected = HostAttention(c, Wide(q), Wide(k), Wide(v), 1.7);

        var (o, _) = RunForward(c, q, k, v, scale: 1.7f);

        double err = Reference.RelativeError(o, expected);
        log.WriteLine($"output {err:E2}");
        Assert.True(err <= 1e-5, $"output relative error {err:E2} > 1e-5");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Large_logits_stay_finite_and_accurate(bool causal)
    {
        // q scaled by 100 gives logits of several hundred: exp would overflow fp32 without the running max.
        var c = new Case(2, 3, 4, 4, 6, 6, causal);
        var q = Reference.RandomNormal(c.QCount, 7).Select(x => 100f * x).ToArray();
        var k = Reference.RandomNormal(c.KCount, 8);
        var v = Reference.RandomNormal(c.VCount, 9);
        var lse = new double[c.N * c.H * c.Lq];
        var expected = HostAttention(c, Wide(q), Wide(k), Wide(v), c.DefaultScale, lse);

        var (o, l) = RunForward(c, q, k, v, scale: null);

        Assert.All(o, x => Assert.True(float.IsFinite(x)));
        double errO = Reference.RelativeError(o, expected), errL = Reference.RelativeError(l, lse);
        log.WriteLine($"max logsumexp {lse.Max():F1}, output {errO:E2}, logsumexp {errL:E2}");
        // The output stays within the f32 forward bound; the logits themselves carry f32 rounding of ~1e-7 · |s|.
        Assert.True(errO <= 1e-5, $"output relative error {errO:E2} > 1e-5");
        Assert.True(errL <= 1e-6, $"logsumexp relative error {errL:E2} > 1e-6");
    }

    public static TheoryData<int, int, int, int, int, int, bool> BackwardShapes => new()
    {
        { 2, 3, 4, 4, 5, 7, false },   // cross-attention
        { 2, 3, 4, 4, 6, 6, false },   // self-attention
        { 2, 3, 4, 4, 5, 5, true },    // causal
        { 1, 2, 3, 5, 4, 3, false },   // Dv ≠ D
        { 2, 2, 1, 1, 3, 4, false },   // D = 1
    };

    [Theory]
    [MemberData(nameof(BackwardShapes))]
    public void Backward_matches_finite_differences(int n, int h, int d, int dv, int lq, int lk, bool causal)
    {
        var c = new Case(n, h, d, dv, lq, lk, causal);
        var q = Reference.RandomNormal(c.QCount, 11);
        var k = Reference.RandomNormal(c.KCount, 12);
        var v = Reference.RandomNormal(c.VCount, 13);
        var dO = Reference.RandomNormal(c.OCount, 14);
        double scale = c.DefaultScale;
        double[] q64 = Wide(q), k64 = Wide(k), v64 = Wide(v), w = Wide(dO);
        var expectedQ = FiniteDifference.Gradient(x => HostAttention(c, x, k64, v64, scale), q64, w);
        var expectedK = FiniteDifference.Gradient(x => HostAttention(c, q64, x, v64, scale), k64, w);
        var expectedV = FiniteDifference.Gradient(x => HostAttention(c, q64, k64, x, scale), v64, w);

        var (gq, gk, gv) = RunBackward(c, q, k, v, dO);

        double errQ = Reference.RelativeError(gq, expectedQ);
        double errK = Reference.RelativeError(gk, expectedK);
        double errV = Reference.RelativeError(gv, expectedV);
        log.WriteLine($"dQ {errQ:E2}, dK {errK:E2}, dV {errV:E2}");
        Assert.True(errQ <= 1e-4, $"dQ relative error {errQ:E2} > 1e-4");
        Assert.True(errK <= 1e-4, $"dK relative error {errK:E2} > 1e-4");
        Assert.True(errV <= 1e-4, $"dV relative error {errV:E2} > 1e-4");
    }

    [Fact]
    public void Backward_is_deterministic()
    {
        var c = new Case(2, 3, 4, 4, 6, 6, false);
        var q = Reference.RandomNormal(c.QCount, 21);
        var k = Reference.RandomNormal(c.KCount, 22);
        var v = Reference.RandomNormal(c.VCount, 23);
        var dO = Reference.RandomNormal(c.OCount, 24);

        var first = RunBackward(c, q, k, v, dO);
        var second = RunBackward(c, q, k, v, dO);

        Assert.Equal(first.Q, second.Q);
        Assert.Equal(first.K, second.K);
        Assert.Equal(first.V, second.V);
    }

    private (float[] Q, float[] K, float[] V) RunBackward(Case c, float[] q, float[] k, float[] v, float[] dO)
    {
        using var tq = Tensor.FromHost(device, q, c.N, c.Lq, c.H * c.D);
        using var tk = Tensor.FromHost(device, k, c.N, c.Lk, c.H * c.D);
        using var tv = Tensor.FromHost(device, v, c.N, c.Lk, c.H * c.Dv);
        using var tdo = Tensor.FromHost(device, dO, c.N, c.Lq, c.H * c.Dv);
        using var to = Tensor.Empty(device, DType.F32, c.N, c.Lq, c.H * c.Dv);
        using var tl = Tensor.Empty(device, DType.F32, c.N, c.H, c.Lq);
        using var dq = Tensor.Empty(device, DType.F32, c.N, c.Lq, c.H * c.D);
        using var dk = Tensor.Empty(device, DType.F32, c.N, c.Lk, c.H * c.D);
        using var dv = Tensor.Empty(device, DType.F32, c.N, c.Lk, c.H * c.Dv);
        Attention.Forward(tq, tk, tv, to, tl, c.H, causal: c.Causal);
        Attention.Backward(tq, tk, tv, to, tl, tdo, dq, dk, dv, c.H, causal: c.Causal);
        return (dq.ToFloatArray(), dk.ToFloatArray(), dv.ToFloatArray());
    }

    [Fact]
    public void Bad_shapes_are_refused_naming_the_argument()
    {
        using var q = Tensor.Zeros(device, DType.F32, 2, 5, 12);
        using var k = Tensor.Zeros(device, DType.F32, 2, 7, 12);
        using var v = Tensor.Zeros(device, DType.F32, 2, 7, 12);
        using var o = Tensor.Zeros(device, DType.F32, 2, 5, 12);
        using var l = Tensor.Zeros(device, DType.F32, 2, 3, 5);

        using var q10 = Tensor.Zeros(device, DType.F32, 2, 5, 10);
        Refused("q", () => Attention.Forward(q10, k, v, o, l, heads: 3));
        using var k1 = Tensor.Zeros(device, DType.F32, 1, 7, 12);
        Refused("k", () => Attention.Forward(q, k1, v, o, l, heads: 3));
        using var kWide = Tensor.Zeros(device, DType.F32, 2, 7, 15);
        Refused("k", () => Attention.Forward(q, kWide, v, o, l, heads: 3));
        using var v6 = Tensor.Zeros(device, DType.F32, 2, 6, 12);
        Refused("v", () => Attention.Forward(q, k, v6, o, l, heads: 3));
        Refused("causal", () => Attention.Forward(q, k, v, o, l, heads: 3, causal: true));
        Refused("heads", () => Attention.Forward(q, k, v, o, l, heads: 0));
        Refused("scale", () => Attention.Forward(q, k, v, o, l, heads: 3, scale: float.NaN));
        using var oBad = Tensor.Zeros(device, DType.F32, 2, 7, 12);
        Refused("output", () => Attention.Forward(q, k, v, oBad, l, heads: 3));
        using var lBad = Tensor.Zeros(device, DType.F32, 2, 5, 3);
        Refused("logSumExp", () => Attention.Forward(q, k, v, o, lBad, heads: 3));
        using var kHalf = Tensor.Zeros(device, DType.F16, 2, 7, 12);
        Refused("k", () => Attention.Forward(q, kHalf, v, o, l, heads: 3));

        using var dq = Tensor.Zeros(device, DType.F32, 2, 5, 12);
        using var dk = Tensor.Zeros(device, DType.F32, 2, 7, 12);
        using var dv = Tensor.Zeros(device, DType.F32, 2, 7, 12);
        Refused("kGrad", () => Attention.Backward(q, k, v, o, l, o, dq, dq, dv, heads: 3));
        Refused("outputGrad", () => Attention.Backward(q, k, v, o, l, dk, dq, dk, dv, heads: 3));
        Refused("causal", () => Attention.Backward(q, k, v, o, l, o, dq, dk, dv, heads: 3, causal: true));
    }

    private static void Refused(string argument, Action call)
    {
        var e = Assert.Throws<ArgumentException>(call);
        Assert.Equal(argument, e.ParamName);
    }
}
