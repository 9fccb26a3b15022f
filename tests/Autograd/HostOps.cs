using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Kernels;

namespace IlgpuDiffusion.Tests.Autograd;

/// <summary>Float64 host references of the autograd ops, the functions the finite differences differentiate.</summary>
internal static class HostOps
{
    /// <summary>y [rows, out] = x [rows, in] · wᵀ + b.</summary>
    public static double[] Linear(double[] x, double[] w, double[]? b, int outFeatures)
    {
        int inFeatures = w.Length / outFeatures, rows = x.Length / inFeatures;
        var y = new double[rows * outFeatures];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outFeatures; o++)
            {
                double s = b?[o] ?? 0;
                for (int i = 0; i < inFeatures; i++) s += x[r * inFeatures + i] * w[o * inFeatures + i];
                y[r * outFeatures + o] = s;
            }
        return y;
    }

    /// <summary>alpha · op(a) · op(b) per batch; a rank-2 operand or a batch of one is shared.</summary>
    public static double[] MatMul(double[] a, int[] aShape, bool transA, double[] b, int[] bShape, bool transB, double alpha)
    {
        int aBatch = aShape.Length == 3 ? aShape[0] : 1, bBatch = bShape.Length == 3 ? bShape[0] : 1;
        int aRows = aShape[^2], aCols = aShape[^1], bRows = bShape[^2], bCols = bShape[^1];
        int m = transA ? aCols : aRows, k = transA ? aRows : aCols, n = transB ? bRows : bCols, batch = Math.Max(aBatch, bBatch);
        var c = new double[batch * m * n];
        for (int p = 0; p < batch; p++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int t = 0; t < k; t++)
                    {
                        double av = a[(aBatch == 1 ? 0 : p) * aRows * aCols + (transA ? t * aCols + i : i * aCols + t)];
                        double bv = b[(bBatch == 1 ? 0 : p) * bRows * bCols + (transB ? j * bCols + t : t * bCols + j)];
                        s += av * bv;
                    }
                    c[(p * m + i) * n + j] = alpha * s;
                }
        return c;
    }

    /// <summary>Channels-last conv: x [N, H, W, Cin], w [Cout, kh, kw, Cin] → [N, Hout, Wout, Cout].</summary>
    public static double[] Conv2d(double[] x, int[] xShape, double[] w, int[] wShape, double[]? b, Conv2dParams p)
    {
        int n = xShape[0], h = xShape[1], wd = xShape[2], cin = xShape[3], cout = wShape[0], kh = wShape[1], kw = wShape[2];
        int ho = p.OutputHeight(h, kh), wo = p.OutputWidth(wd, kw);
        var y = new double[n * ho * wo * cout];
        for (int s = 0; s < n; s++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                    for (int co = 0; co < cout; co++)
                    {
                        double acc = b?[co] ?? 0;
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++)
                            {
                                int iy = oy * p.StrideH - p.PadTop + ky, ix = ox * p.StrideW - p.PadLeft + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                for (int ci = 0; ci < cin; ci++)
                                    acc += x[((s * h + iy) * wd + ix) * cin + ci] * w[((co * kh + ky) * kw + kx) * cin + ci];
                            }
                        y[((s * ho + oy) * wo + ox) * cout + co] = acc;
                    }
        return y;
    }

    /// <summary>Group norm of [N, .., C] (layer norm is [rows, C] with one group), then SiLU when asked.</summary>
    public static double[] GroupNorm(double[] x, int samples, double[] gamma, double[] beta, int groups, double eps, bool silu)
    {
        int c = gamma.Length, perGroup = c / groups, spatial = x.Length / (samples * c);
        var y = new double[x.Length];
        for (int s = 0; s < samples; s++)
            for (int g = 0; g < groups; g++)
            {
                var idx = Enumerable.Range(0, spatial)
                    .SelectMany(p => Enumerable.Range(g * perGroup, perGroup).Select(ch => (s * spatial + p) * c + ch)).ToArray();
                double mean = idx.Average(i => x[i]);
                double rstd = 1 / Math.Sqrt(idx.Average(i => (x[i] - mean) * (x[i] - mean)) + eps);
                foreach (int i in idx)
                {
                    double v = (x[i] - mean) * rstd * gamma[i % c] + beta[i % c];
                    y[i] = silu ? Silu(v) : v;
                }
            }
        return y;
    }

    /// <summary>softmax(scale · x) over rows of <paramref name="cols"/>; causal masks column j &gt; row mod cols.</summary>
    public static double[] Softmax(double[] x, int cols, double scale, bool causal)
    {
        var y = new double[x.Length];
        for (int r = 0; r < x.Length / cols; r++)
        {
            int visible = causal ? r % cols + 1 : cols;
            double max = Enumerable.Range(0, visible).Max(j => scale * x[r * cols + j]);
            double sum = Enumerable.Range(0, visible).Sum(j => Math.Exp(scale * x[r * cols + j] - max));
            for (int j = 0; j < visible; j++) y[r * cols + j] = Math.Exp(scale * x[r * cols + j] - max) / sum;
        }
        return y;
    }

    /// <summary>Multi-head attention over q [N, Lq, H·D], k [N, Lk, H·D], v [N, Lk, H·Dv].</summary>
    public static double[] Attention(double[] q, double[] k, double[] v, int n, int lq, int lk, int heads, double scale, bool causal)
    {
        int d = q.Length / (n * lq * heads), dv = v.Length / (n * lk * heads);
        var o = new double[n * lq * heads * dv];
        for (int s = 0; s < n; s++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < lq; i++)
                {
                    int keys = causal ? i + 1 : lk;
                    var logits = Enumerable.Range(0, keys).Select(j => Enumerable.Range(0, d)
                        .Sum(t => q[((s * lq + i) * heads + h) * d + t] * k[((s * lk + j) * heads + h) * d + t])).ToArray();
                    var p = Softmax(logits, keys, scale, false);
                    for (int j = 0; j < keys; j++)
                        for (int t = 0; t < dv; t++)
                            o[((s * lq + i) * heads + h) * dv + t] += p[j] * v[((s * lk + j) * heads + h) * dv + t];
                }
        return o;
    }

    public static double Activation(ActivationKind kind, double x) => kind switch
    {
        ActivationKind.Gelu => Gelu(x),
        ActivationKind.QuickGelu => x / (1 + Math.Exp(-1.702 * x)),
        ActivationKind.Silu => Silu(x),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>[.., 2F] → hidden · GELU(gate) [.., F].</summary>
    public static double[] Geglu(double[] x, int features) =>
        [.. Enumerable.Range(0, x.Length / 2).Select(i =>
        {
            int row = i / features, f = i % features;
            return x[row * 2 * features + f] * Gelu(x[row * 2 * features + features + f]);
        })];

    /// <summary>op(x[n, .., c], operand[n, c]) for x viewed as [samples, .., C] (one sample for a [C] vector).</summary>
    public static double[] Broadcast(double[] x, double[] operand, int channels, bool perSample, bool multiply)
    {
        int samples = perSample ? operand.Length / channels : 1, sampleSize = x.Length / samples;
        return [.. x.Select((v, i) =>
        {
            double o = operand[i / sampleSize * channels + i % channels];
            return multiply ? v * o : v + o;
        })];
    }

    /// <summary>The mean over samples of each sample's weighted mean squared error.</summary>
    public static double Mse(double[] p, double[] t, double[]? w, int samples)
    {
        int per = p.Length / samples;
        double total = 0;
        for (int i = 0; i < p.Length; i++) total += (w?[i / per] ?? 1) * (p[i] - t[i]) * (p[i] - t[i]) / per;
        return total / samples;
    }

    /// <summary>Nearest resampling [N, H, W, C] → [N, Ho, Wo, C] with PyTorch's fp32 index rule.</summary>
    public static double[] Upsample(double[] x, int n, int h, int w, int c, int ho, int wo)
    {
        float sh = (float)h / ho, sw = (float)w / wo;
        var y = new double[n * ho * wo * c];
        for (int s = 0; s < n; s++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                {
                    int iy = Math.Min((int)(oy * sh), h - 1), ix = Math.Min((int)(ox * sw), w - 1);
                    for (int ch = 0; ch < c; ch++) y[((s * ho + oy) * wo + ox) * c + ch] = x[((s * h + iy) * w + ix) * c + ch];
                }
        return y;
    }

    /// <summary>Rows of [.., C1] and [.., C2] joined into [.., C1 + C2].</summary>
    public static double[] Concat(double[] a, double[] b, int c1, int c2) =>
        [.. Enumerable.Range(0, a.Length / c1).SelectMany(r => a.Skip(r * c1).Take(c1).Concat(b.Skip(r * c2).Take(c2)))];

    /// <summary>Channels [start, start + length) of each row of [.., C].</summary>
    public static double[] Slice(double[] x, int channels, int start, int length) =>
        [.. Enumerable.Range(0, x.Length / channels).SelectMany(r => x.Skip(r * channels + start).Take(length))];

    /// <summary>numpy's transpose(x, axes) of a row-major array of <paramref name="shape"/>.</summary>
    public static double[] Permute(double[] x, int[] shape, int[] axes)
    {
        var strides = new int[shape.Length];
        for (int a = shape.Length - 1, s = 1; a >= 0; s *= shape[a], a--) strides[a] = s;
        var outShape = axes.Select(a => shape[a]).ToArray();
        var y = new double[x.Length];
        for (int i = 0; i < y.Length; i++)
        {
            int rest = i, source = 0;
            for (int k = axes.Length - 1; k >= 0; k--)
            {
                source += rest % outShape[k] * strides[axes[k]];
                rest /= outShape[k];
            }
            y[i] = x[source];
        }
        return y;
    }

    /// <summary>Rows of table [V, C] at ids.</summary>
    public static double[] Gather(double[] table, int channels, int[] ids) =>
        [.. ids.SelectMany(id => table.Skip(id * channels).Take(channels))];

    private static double Silu(double v) => v / (1 + Math.Exp(-v));

    private static double Gelu(double x) => x * 0.5 * ErfReference.Erfc(-x / Math.Sqrt(2));
}
