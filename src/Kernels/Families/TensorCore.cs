using ILGPU;
using ILGPU.Runtime.Cuda;
using Half = ILGPU.Half;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The warp-wide tensor-core product <c>mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32</c>:
/// D (16 × 8, fp32) = A (16 × 16, fp16) · B (16 × 8, fp16) + C, every operand spread over the 32 lanes of a warp as
/// the PTX ISA lays it out ("Matrix Fragments for mma.m16n8k16 with floating point type"). With g = lane / 4 and
/// t = lane % 4, each 32-bit fragment register holds two fp16 values, the lower index in the low half:
/// <list type="bullet">
/// <item>A: a0 = row g, columns 2t and 2t+1; a1 = row g+8, the same columns; a2 = row g, columns 2t+8 and 2t+9;
/// a3 = row g+8, columns 2t+8 and 2t+9.</item>
/// <item>B: b0 = rows 2t and 2t+1 of column g; b1 = rows 2t+8 and 2t+9 of column g.</item>
/// <item>C and D: c0, c1 = row g, columns 2t and 2t+1; c2, c3 = row g+8, the same columns.</item>
/// </list>
/// On CUDA (sm_80 and later) it is that one instruction, as inline PTX. Elsewhere a fallback computes the same
/// product from the same fragments, fetching the other lanes' values with warp shuffles, so the CPU accelerator
/// checks every line of the tile logic around it. All 32 lanes of the warp must call it together.
/// </summary>
internal static class TensorCore
{
    /// <summary>(c0, c1, c2, c3) = this lane's part of A · B + C, for the fragments described on <see cref="TensorCore"/>.</summary>
    public static void MmaM16N8K16(
        uint a0, uint a1, uint a2, uint a3, uint b0, uint b1, ref float c0, ref float c1, ref float c2, ref float c3)
    {
        if (CudaAsm.IsSupported)
        {
            Output<float> d0 = default, d1 = default, d2 = default, d3 = default;
            Input<uint> ia0 = a0, ia1 = a1, ia2 = a2, ia3 = a3, ib0 = b0, ib1 = b1;
            Input<float> ic0 = c0, ic1 = c1, ic2 = c2, ic3 = c3;
            CudaAsm.EmitRef(
                "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%11,%12,%13};",
                ref d0, ref d1, ref d2, ref d3, ref ia0, ref ia1, ref ia2, ref ia3, ref ib0, ref ib1, ref ic0, ref ic1, ref ic2, ref ic3);
            c0 = d0.Value;
            c1 = d1.Value;
            c2 = d2.Value;
            c3 = d3.Value;
        }
        else
            Emulate(a0, a1, a2, a3, b0, b1, ref c0, ref c1, ref c2, ref c3);
    }

    /// <summary>Two fp16 values as one <c>.f16x2</c> fragment register: <paramref name="low"/> in bits 0–15.</summary>
    public static uint Pack(Half low, Half high) => Interop.FloatAsInt(low) | ((uint)Interop.FloatAsInt(high) << 16);

    /// <summary>
    /// fp32 → fp16 rounded to nearest, ties to even, overflowing to ±∞: <c>cvt.rn.f16.f32</c> on CUDA, and the same
    /// rounding in software elsewhere, because ILGPU 1.5.3's own conversion on the CPU accelerator truncates (van der
    /// Zijp's tables without rounding), which would make the CPU tests check a different product than the GPU computes.
    /// </summary>
    public static Half ToHalf(float value) =>
        CudaAsm.IsSupported ? (Half)value : Interop.IntAsFloat(RoundToHalfBits(Interop.FloatAsInt(value)));

    /// <summary>The IEEE binary16 bits nearest to the binary32 value with bits <paramref name="x"/> (ties to even).</summary>
    internal static ushort RoundToHalfBits(uint x)
    {
        uint sign = (x >> 16) & 0x8000, magnitude = x & 0x7FFFFFFF;
        if (magnitude > 0x7F800000) return (ushort)(sign | 0x7E00);          // NaN
        if (magnitude >= 0x477FF000) return (ushort)(sign | 0x7C00);         // ≥ 65520 (and ∞) rounds to ∞
        int exponent = (int)(magnitude >> 23);
        uint mantissa = magnitude & 0x7FFFFF;
        uint half, rest, halfway;
        if (exponent >= 113)
        {
            // Normal in fp16: rebias the exponent, keep 10 of 23 mantissa bits; a carry may roll into the exponent.
            half = (uint)(exponent - 112) << 10 | mantissa >> 13;
            rest = mantissa & 0x1FFF;
            halfway = 0x1000;
        }
        else
        {
            // Subnormal (or zero) in fp16: the value in units of 2⁻²⁴ is the full significand shifted right.
            int shift = 126 - exponent;
            if (shift > 24) return (ushort)sign;                             // below 2⁻²⁵: rounds to ±0
            uint significand = mantissa | 0x800000;
            half = significand >> shift;
            rest = significand & ((1u << shift) - 1);
            halfway = 1u << (shift - 1);
        }
        if (rest > halfway || (rest == halfway && (half & 1) != 0)) half++;
        return (ushort)(sign | half);
    }

    /// <summary>
    /// The fallback: for each pair of k values (2p, 2p+1), the lane 4·row + p % 4 holds them for A's row in a0 / a1
    /// (p &lt; 4) or a2 / a3 (p ≥ 4), and the lane 4·column + p % 4 holds them for B's column in b0 or b1; every lane
    /// fetches the four registers its outputs need and accumulates in fp32 (fp16 products are exact in fp32).
    /// </summary>
    private static void Emulate(
        uint a0, uint a1, uint a2, uint a3, uint b0, uint b1, ref float c0, ref float c1, ref float c2, ref float c3)
    {
        int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3;
        for (int pair = 0; pair < 8; pair++)
        {
            bool upper = pair >= 4;
            int quad = pair & 3;
            uint top = Warp.Shuffle(upper ? a2 : a0, 4 * g + quad);
            uint bottom = Warp.Shuffle(upper ? a3 : a1, 4 * g + quad);
            uint left = Warp.Shuffle(upper ? b1 : b0, 4 * (2 * t) + quad);
            uint right = Warp.Shuffle(upper ? b1 : b0, 4 * (2 * t + 1) + quad);
            c0 += Low(top) * Low(left) + High(top) * High(left);
            c1 += Low(top) * Low(right) + High(top) * High(right);
            c2 += Low(bottom) * Low(left) + High(bottom) * High(left);
            c3 += Low(bottom) * Low(right) + High(bottom) * High(right);
        }
    }

    private static float Low(uint pair) => Interop.IntAsFloat((ushort)(pair & 0xFFFF));

    private static float High(uint pair) => Interop.IntAsFloat((ushort)(pair >> 16));
}
