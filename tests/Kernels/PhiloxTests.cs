using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

public class PhiloxTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.Portable;

    /// <summary>
    /// Philox4x32-10 written from the paper's definition (Salmon et al. 2011, §4.2 and Random123's philox.h):
    /// multipliers 0xD2511F53, 0xCD9E8D57, Weyl increments 0x9E3779B9, 0xBB67AE85, ten rounds, the key bumped
    /// before every round but the first.
    /// </summary>
    private static uint[] HostPhilox(uint[] counter, uint[] key)
    {
        uint[] x = (uint[])counter.Clone();
        uint k0 = key[0], k1 = key[1];
        for (int round = 0; round < 10; round++)
        {
            ulong a = 0xD2511F53UL * x[0], b = 0xCD9E8D57UL * x[2];
            x = [(uint)(b >> 32) ^ x[1] ^ k0, (uint)b, (uint)(a >> 32) ^ x[3] ^ k1, (uint)a];
            k0 = unchecked(k0 + 0x9E3779B9u);
            k1 = unchecked(k1 + 0xBB67AE85u);
        }
        return x;
    }

    /// <summary>The words the engine gives element i: block i / 4 of (counter = (i / 4, offset), key = seed).</summary>
    private static uint HostWord(ulong seed, ulong offset, long i)
    {
        ulong block = (ulong)(i / 4);
        var x = HostPhilox([(uint)block, (uint)(block >> 32), (uint)offset, (uint)(offset >> 32)], [(uint)seed, (uint)(seed >> 32)]);
        return x[i % 4];
    }

    // Random123 kat_vectors, philox4x32 with 10 rounds: counter, key, expected output.
    public static TheoryData<uint[], uint[], uint[]> KnownAnswers => new()
    {
        { [0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8] },
        { [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd] },
        { [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1] },
    };

    [Theory]
    [MemberData(nameof(KnownAnswers))]
    public void Host_reference_and_engine_generator_reproduce_the_known_answers(uint[] counter, uint[] key, uint[] expected)
    {
        Assert.Equal(expected, HostPhilox(counter, key));
        var block = Philox.Generate(counter[0], counter[1], counter[2], counter[3], key[0], key[1]);
        Assert.Equal(expected, new[] { block.X0, block.X1, block.X2, block.X3 });
    }

    [Fact]
    public void Device_uniforms_are_the_known_answer_for_seed_0_offset_0()
    {
        using var t = Tensor.Empty(device, DType.F32, 4);
        Philox.Uniform(t, seed: 0);
        uint[] kat = [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8];
        Assert.Equal(kat.Select(w => (w >> 8) / 16777216f).ToArray(), t.ToFloatArray());
    }

    [Theory]
    [InlineData(1003, 0x123456789ABCDEF0UL, 0xFEDCBA9876543210UL)]
    [InlineData(5, 7UL, 0UL)]
    public void Device_uniforms_match_the_host_reference_bit_for_bit(int n, ulong seed, ulong offset)
    {
        using var t = Tensor.Empty(device, DType.F32, n);
        Philox.Uniform(t, seed, offset);
        var expected = Enumerable.Range(0, n).Select(i => (HostWord(seed, offset, i) >> 8) / 16777216f).ToArray();
        Assert.Equal(expected, t.ToFloatArray()); // exact: a 24-bit integer times 2^-24
    }

    [Theory]
    [InlineData(1003, 0x123456789ABCDEF0UL, 0xFEDCBA9876543210UL)]
    [InlineData(6, 42UL, 3UL)]
    public void Device_normals_match_the_host_reference_bit_for_bit(int n, ulong seed, ulong offset)
    {
        using var t = Tensor.Empty(device, DType.F32, n);
        Philox.Normal(t, seed, offset);
        var got = t.ToFloatArray();

        // Bit for bit: host words from the reference Philox, turned into normals by the engine's Box–Muller, the very
        // code the kernel runs (and CUDA runs it with the same explicitly rounded operations).
        var expected = new float[n];
        var exact = new double[n];
        for (int i = 0; i < n; i++)
        {
            int pair = i & ~1;
            uint a = HostWord(seed, offset, pair), b = HostWord(seed, offset, pair + 1);
            Philox.BoxMuller(a, b, out float z0, out float z1);
            expected[i] = i % 2 == 0 ? z0 : z1;
            double radius = Math.Sqrt(-2 * Math.Log((((a >> 8) | 1) / 16777216.0)));
            double angle = 2 * Math.PI * ((b >> 8) / 16777216.0);
            exact[i] = radius * (i % 2 == 0 ? Math.Cos(angle) : Math.Sin(angle));
        }
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), got.Select(BitConverter.SingleToInt32Bits));

        // Against Box–Muller in float64: the float32 log and sin/cos polynomials are accurate to a few ulp.
        double error = Reference.RelativeError(got, exact);
        output.WriteLine($"n={n}: relative error {error:E2} vs float64 Box–Muller");
        Assert.True(error <= 1e-6, $"relative error {error:E2} vs float64 Box–Muller");
    }

    [Fact]
    public void Normals_have_zero_mean_unit_variance_and_no_zeros()
    {
        const int n = 100_000;
        using var t = Tensor.Empty(device, DType.F32, n);
        Philox.Normal(t, seed: 2024);
        var z = t.ToFloatArray();
        double mean = z.Average(v => (double)v);
        double variance = z.Sum(v => (v - mean) * (v - mean)) / (n - 1);
        // Five standard errors: σ/√n = 0.0032 for the mean, √(2/n) = 0.0045 for the variance.
        output.WriteLine($"mean {mean:E2}, variance {variance:F5}");
        Assert.True(Math.Abs(mean) < 5 / Math.Sqrt(n), $"mean {mean}");
        Assert.True(Math.Abs(variance - 1) < 5 * Math.Sqrt(2.0 / n), $"variance {variance}");
        Assert.All(z, v => Assert.True(float.IsFinite(v) && v != 0f));
        Assert.True(z.Max() > 3.5f && z.Min() < -3.5f, "tails missing"); // P(no |z| > 3.5 in 1e5 draws) ≈ 0
    }

    [Fact]
    public void Uniforms_have_mean_one_half_and_stay_in_the_unit_interval()
    {
        const int n = 100_000;
        using var t = Tensor.Empty(device, DType.F32, n);
        Philox.Uniform(t, seed: 99, offset: 5);
        var u = t.ToFloatArray();
        double mean = u.Average(v => (double)v);
        double variance = u.Sum(v => (v - mean) * (v - mean)) / (n - 1);
        Assert.True(Math.Abs(mean - 0.5) < 5 * Math.Sqrt(1.0 / 12 / n), $"mean {mean}"); // five standard errors
        Assert.True(Math.Abs(variance - 1.0 / 12) < 5 * Math.Sqrt(1.0 / 180 / n), $"variance {variance}"); // var of s² = 1/(180n)
        Assert.All(u, v => Assert.True(v >= 0f && v < 1f));
    }

    [Fact]
    public void Seeds_and_offsets_give_different_streams_and_values_do_not_depend_on_the_size()
    {
        float[] Draw(int n, ulong seed, ulong offset)
        {
            using var t = Tensor.Empty(device, DType.F32, n);
            Philox.Normal(t, seed, offset);
            return t.ToFloatArray();
        }
        var baseline = Draw(1000, 1, 0);
        Assert.Equal(0, baseline.Zip(Draw(1000, 2, 0)).Count(p => p.First == p.Second));
        Assert.Equal(0, baseline.Zip(Draw(1000, 1, 1)).Count(p => p.First == p.Second));
        Assert.Equal(0, baseline.Zip(Draw(1000, 1UL << 32, 0)).Count(p => p.First == p.Second)); // the key's high word counts
        Assert.Equal(baseline, Draw(1000, 1, 0));
        Assert.Equal(baseline.Take(7), Draw(7, 1, 0));
    }

    [Fact]
    public void Non_f32_outputs_are_refused()
    {
        using var h = Tensor.Zeros(device, DType.F16, 4);
        var e = Assert.Throws<ArgumentException>(() => Philox.Normal(h, 1));
        Assert.Equal("output", e.ParamName);
        using var i = Tensor.Zeros(device, DType.I32, 4);
        Assert.Throws<ArgumentException>(() => Philox.Uniform(i, 1));
    }
}
