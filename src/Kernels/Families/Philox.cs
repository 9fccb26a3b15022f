using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Counter-based random numbers: Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as
/// 1, 2, 3", SC 2011). Element i of a filled tensor takes word i mod 4 of the block
/// Philox(counter = (i / 4 as 64 bits, <c>offset</c> as 64 bits), key = <c>seed</c>), low words first. Each value
/// therefore depends only on (seed, offset, i): the same seed gives the same numbers for any tensor size, thread
/// count or device (the float math is <see cref="ReproducibleMath"/>: explicitly rounded IEEE operations, so CUDA and
/// the CPU compute the same bits), and a run draws independent streams by giving each draw its own offset (for
/// example the training step).
/// </summary>
/// <remarks>Named after the generator rather than "Random", which would be ambiguous with <see cref="System.Random"/>.</remarks>
public static class Philox
{
    /// <summary>Fills an F32 tensor with standard normal values (Box–Muller on pairs of words of a block).</summary>
    public static void Normal(Tensor output, ulong seed, ulong offset = 0)
        => Fill(nameof(Normal), output, seed, offset, Distribution.Normal);

    /// <summary>Fills an F32 tensor with values uniform in [0, 1): the top 24 bits of a word, times 2⁻²⁴.</summary>
    public static void Uniform(Tensor output, ulong seed, ulong offset = 0)
        => Fill(nameof(Uniform), output, seed, offset, Distribution.Uniform);

    /// <summary>What a fill turns the random words into.</summary>
    internal enum Distribution
    {
        Uniform = 0,
        Normal = 1,
    }

    /// <summary>Validated operands of one fill.</summary>
    internal readonly record struct FillArgs(Tensor Output, ulong Seed, ulong Offset, Distribution Distribution);

    /// <summary>Key and the high half of the counter of every block of one fill, passed to the kernel as one value.</summary>
    internal readonly record struct CounterKey(uint Key0, uint Key1, uint Offset0, uint Offset1);

    /// <summary>One Philox4x32-10 output block (four 32-bit words).</summary>
    internal readonly record struct Block(uint X0, uint X1, uint X2, uint X3);

    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57; // round multipliers
    private const uint W0 = 0x9E3779B9, W1 = 0xBB67AE85; // Weyl key increments (golden ratio, √3 − 1)

    private static readonly OpDispatcher<FillArgs> dispatcher =
        new(new KernelVariant<FillArgs>("philox-portable", KernelTier.Portable, (_, _) => true, LaunchPortable));

    private static void Fill(string op, Tensor output, ulong seed, ulong offset, Distribution distribution)
    {
        ArgumentNullException.ThrowIfNull(output);
        Require.DType(op, nameof(output), output, DType.F32);
        dispatcher.Launch(output.Device, new FillArgs(output, seed, offset, distribution));
    }

    private static void LaunchPortable(Device device, FillArgs args)
    {
        int blocks = (args.Output.Count + 3) / 4;
        var key = new CounterKey((uint)args.Seed, (uint)(args.Seed >> 32), (uint)args.Offset, (uint)(args.Offset >> 32));
        device.Accelerator.LaunchAutoGrouped(
            FillKernel, device.Stream, new Index1D(blocks), args.Output.F32View, key, (int)args.Distribution);
    }

    /// <summary>Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1): ten rounds, the key bumped between rounds.</summary>
    internal static Block Generate(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int round = 0; round < 10; round++)
        {
            if (round > 0)
            {
                k0 += W0;
                k1 += W1;
            }
            ulong p0 = (ulong)M0 * c0, p1 = (ulong)M1 * c2;
            uint hi0 = (uint)(p0 >> 32), lo0 = (uint)p0, hi1 = (uint)(p1 >> 32), lo1 = (uint)p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
        }
        return new Block(c0, c1, c2, c3);
    }

    /// <summary>A word as a uniform in [0, 1) with 24 random bits (exact in float).</summary>
    internal static float ToUniform(uint word) => (word >> 8) * (1f / 16777216f);

    /// <summary>A word as a uniform in (0, 1): an odd multiple of 2⁻²⁴, never 0, so its logarithm is finite.</summary>
    internal static float ToOpenUniform(uint word) => ((word >> 8) | 1u) * (1f / 16777216f);

    /// <summary>Box–Muller: two standard normals from the words (a, b): √(−2 ln u_a) · (cos 2πu_b, sin 2πu_b).</summary>
    internal static void BoxMuller(uint a, uint b, out float z0, out float z1)
    {
        float radius = MathF.Sqrt(-2f * ReproducibleMath.Log(ToOpenUniform(a))); // −2·x is exact
        ReproducibleMath.SinCosTurns(ToUniform(b), out float sin, out float cos);
        z0 = ReproducibleMath.Mul(radius, cos);
        z1 = ReproducibleMath.Mul(radius, sin);
    }

    /// <summary>One thread per block of four elements; the last block may be partial.</summary>
    [Kernel]
    internal static void FillKernel(Index1D block, ArrayView<float> output, CounterKey key, int distribution)
    {
        var x = Generate((uint)block.X, 0u, key.Offset0, key.Offset1, key.Key0, key.Key1);
        float v0, v1, v2, v3;
        if (distribution == (int)Distribution.Normal)
        {
            BoxMuller(x.X0, x.X1, out v0, out v1);
            BoxMuller(x.X2, x.X3, out v2, out v3);
        }
        else
        {
            v0 = ToUniform(x.X0);
            v1 = ToUniform(x.X1);
            v2 = ToUniform(x.X2);
            v3 = ToUniform(x.X3);
        }
        int first = block * 4;
        int count = (int)output.Length - first;
        output[first] = v0;
        if (count > 1) output[first + 1] = v1;
        if (count > 2) output[first + 2] = v2;
        if (count > 3) output[first + 3] = v3;
    }
}
