using ILGPU;
using ILGPU.Runtime.Cuda;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Float math that gives the same bits on every device, for values that must not depend on where they were computed
/// (the Gaussian noise of a seed, the timestep embedding). ILGPU lowers <c>MathF.Log/Sin/Cos</c> to PTX's
/// <c>lg2/sin/cos.approx</c> and a plain <c>a * b + c</c> to <c>mul.f32</c> + <c>add.f32</c>, which ptxas may
/// contract into one <c>fma</c>; the CPU rounds each operation of .NET math. Here every product and sum is an
/// explicitly rounded IEEE operation (<c>mul.rn</c>, <c>add.rn</c>, <c>sub.rn</c> on CUDA, never contracted), and the
/// transcendentals are short polynomials built from those operations, so CUDA and the CPU agree bit for bit.
/// Division (<c>div.rn</c>) and <c>MathF.Sqrt</c> (<c>sqrt.rn</c>) are already correctly rounded on both.
/// </summary>
internal static class ReproducibleMath
{
    // Taylor coefficients of sin(π/2·r) and cos(π/2·r) in r, for |r| ≤ 1/2 (argument ≤ π/4): the first omitted
    // terms are below 2e-9, far under float's resolution.
    private const float S1 = 1.5707963267948966f, S3 = -0.6459640975062462f, S5 = 0.07969262624616703f,
        S7 = -0.004681754135318687f, S9 = 0.00016044118478735975f;
    private const float C2 = -1.2337005501361697f, C4 = 0.253669507901048f, C6 = -0.020863480763352957f,
        C8 = 0.0009192602748394263f, C10 = -2.5202042373060596e-05f;

    // ln 2 split so that e · Ln2High is exact for every float exponent e.
    private const float Ln2High = 0.693145751953125f, Ln2Low = 1.4286068202862268e-06f;

    /// <summary>a · b, rounded to nearest, never fused with a neighbouring add.</summary>
    public static float Mul(float a, float b)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit("mul.rn.f32 %0, %1, %2;", out float product, a, b);
            return product;
        }
        return a * b;
    }

    /// <summary>a + b, rounded to nearest, never fused with a neighbouring multiply.</summary>
    public static float Add(float a, float b)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit("add.rn.f32 %0, %1, %2;", out float sum, a, b);
            return sum;
        }
        return a + b;
    }

    /// <summary>a − b, rounded to nearest, never fused with a neighbouring multiply.</summary>
    public static float Sub(float a, float b)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit("sub.rn.f32 %0, %1, %2;", out float difference, a, b);
            return difference;
        }
        return a - b;
    }

    /// <summary>a · b in double precision, rounded to nearest, never fused with a neighbouring add.</summary>
    public static double Mul(double a, double b)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit("mul.rn.f64 %0, %1, %2;", out double product, a, b);
            return product;
        }
        return a * b;
    }

    /// <summary>
    /// The natural logarithm of a positive normal float, within a few ulp: x = m·2^e with m in (√½, √2], then
    /// ln m = 2·atanh(s) with s = (m − 1)/(m + 1), |s| ≤ 0.172, summed to s¹¹ (the next term is below 2e-11).
    /// </summary>
    public static float Log(float x)
    {
        uint bits = Interop.FloatAsInt(x);
        int exponent = (int)(bits >> 23) - 127;
        float m = Interop.IntAsFloat((bits & 0x007F_FFFFu) | 0x3F80_0000u);
        if (m > 1.41421356f)
        {
            m *= 0.5f; // exact
            exponent++;
        }
        float s = (m - 1f) / Add(m, 1f); // m − 1 is exact for m in [½, 2]
        float z = Mul(s, s);
        float series = Add(0.4f, Mul(z, Add(0.2857142857142857f, Mul(z, Add(0.2222222222222222f, Mul(z, 0.18181818181818182f))))));
        series = Add(0.6666666666666666f, Mul(z, series));
        float logM = Add(2f * s, Mul(Mul(s, z), series)); // 2s is exact
        float e = exponent;
        return Add(e * Ln2High, Add(Mul(e, Ln2Low), logM)); // e · Ln2High is exact
    }

    /// <summary>
    /// sin(2π·turns) and cos(2π·turns) for |turns| ≤ 2^20, within about 2 ulp of 1: the quarter turn q nearest to
    /// 4·turns is taken out exactly, leaving r = 4·turns − q in [−½, ½], and the pair is rotated by q quarter turns.
    /// </summary>
    public static void SinCosTurns(float turns, out float sin, out float cos)
    {
        float quarters = turns * 4f; // exact
        int q = (int)Add(quarters, quarters >= 0f ? 0.5f : -0.5f);
        float r = Sub(quarters, q); // exact: r is a multiple of quarters' ulp and |r| ≤ ½
        float z = Mul(r, r);
        float sinR = Mul(r, Add(S1, Mul(z, Add(S3, Mul(z, Add(S5, Mul(z, Add(S7, Mul(z, S9)))))))));
        float cosR = Add(1f, Mul(z, Add(C2, Mul(z, Add(C4, Mul(z, Add(C6, Mul(z, Add(C8, Mul(z, C10))))))))));
        switch (q & 3)
        {
            case 0: sin = sinR; cos = cosR; break;
            case 1: sin = cosR; cos = -sinR; break;
            case 2: sin = -sinR; cos = -cosR; break;
            default: sin = -cosR; cos = sinR; break;
        }
    }
}
