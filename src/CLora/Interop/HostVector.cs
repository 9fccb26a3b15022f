using System.Numerics;
using System.Runtime.InteropServices;

namespace IlgpuDiffusion.CLora.Interop;

/// <summary>Float64 vector kernels for the host linear algebra (SIMD through <see cref="Vector{T}"/>).</summary>
internal static class HostVector
{
    /// <summary>Σ x_i · y_i.</summary>
    public static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        var xs = MemoryMarshal.Cast<double, Vector<double>>(x);
        var ys = MemoryMarshal.Cast<double, Vector<double>>(y[..x.Length]);
        var sum = Vector<double>.Zero;
        for (int i = 0; i < xs.Length; i++) sum += xs[i] * ys[i];
        double result = Vector.Sum(sum);
        for (int i = xs.Length * Vector<double>.Count; i < x.Length; i++) result += x[i] * y[i];
        return result;
    }

    /// <summary>y += a · x.</summary>
    public static void Axpy(double a, ReadOnlySpan<double> x, Span<double> y)
    {
        var xs = MemoryMarshal.Cast<double, Vector<double>>(x);
        var ys = MemoryMarshal.Cast<double, Vector<double>>(y[..x.Length]);
        var va = new Vector<double>(a);
        for (int i = 0; i < xs.Length; i++) ys[i] += va * xs[i];
        for (int i = xs.Length * Vector<double>.Count; i < x.Length; i++) y[i] += a * x[i];
    }

    /// <summary>row −= vᵢ · w + wᵢ · v: (part of) row i of the symmetric rank-2 update A −= v wᵀ + w vᵀ.</summary>
    public static void SubtractRank2(double vi, ReadOnlySpan<double> w, double wi, ReadOnlySpan<double> v, Span<double> row)
    {
        var ws = MemoryMarshal.Cast<double, Vector<double>>(w);
        var vs = MemoryMarshal.Cast<double, Vector<double>>(v[..w.Length]);
        var rows = MemoryMarshal.Cast<double, Vector<double>>(row[..w.Length]);
        Vector<double> a = new(vi), b = new(wi);
        for (int i = 0; i < ws.Length; i++) rows[i] -= a * ws[i] + b * vs[i];
        for (int i = ws.Length * Vector<double>.Count; i < w.Length; i++) row[i] -= vi * w[i] + wi * v[i];
    }

    /// <summary>√(Σ x_i²).</summary>
    public static double Norm(ReadOnlySpan<double> x) => Math.Sqrt(Dot(x, x));
}
