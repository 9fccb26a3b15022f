using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

public class TimestepEmbeddingTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.Portable;

    /// <summary>diffusers' get_timestep_embedding in float64.</summary>
    private static double[] HostEmbedding(double[] timesteps, int dim, bool flip, double shift, double scale, int maxPeriod)
    {
        int half = dim / 2;
        var result = new double[timesteps.Length * dim];
        for (int n = 0; n < timesteps.Length; n++)
            for (int k = 0; k < half; k++)
            {
                double arg = scale * timesteps[n] * Math.Exp(-Math.Log(maxPeriod) * k / (half - shift));
                double first = flip ? Math.Cos(arg) : Math.Sin(arg), second = flip ? Math.Sin(arg) : Math.Cos(arg);
                result[n * dim + k] = first;
                result[n * dim + half + k] = second;
            }
        return result; // an odd dim leaves the last column 0
    }

    [Theory]
    [InlineData(8, false, 0f, 1f, 10000)]
    [InlineData(8, true, 1f, 1f, 10000)]
    [InlineData(9, true, 0f, 1f, 10000)]
    [InlineData(7, false, 1f, 2f, 100)]
    [InlineData(320, true, 0f, 1f, 10000)] // SD1.x: block_out_channels[0] = 320, flip_sin_to_cos, freq_shift 0
    public void Matches_float64_diffusers_formula(int dim, bool flip, float shift, float scale, int maxPeriod)
    {
        int[] timesteps = [0, 1, 999, 500, 37];
        using var t = Tensor.FromHost(device, timesteps, timesteps.Length);
        using var emb = TimestepEmbedding.Sinusoidal(t, dim, flip, shift, scale, maxPeriod);
        Assert.Equal(new Shape(timesteps.Length, dim), emb.Shape);
        var got = emb.ToFloatArray();
        var expected = HostEmbedding([.. timesteps.Select(t => (double)t)], dim, flip, shift, scale, maxPeriod);
        double error = Reference.RelativeError(got, expected);
        double worst = got.Select((v, i) => Math.Abs(v - expected[i])).Max();
        output.WriteLine($"dim={dim} flip={flip} shift={shift} scale={scale} period={maxPeriod}: relative error {error:E2}, max abs {worst:E2}");
        // The argument t·f is formed in double, so only the float sin/cos (≤ 3e-7 absolute) and the final rounding remain.
        Assert.True(error <= 1e-6 && worst <= 5e-7, $"relative {error:E2}, max abs {worst:E2}");
        if (dim % 2 == 1) Assert.All(Enumerable.Range(0, timesteps.Length), n => Assert.Equal(0f, got[n * dim + dim - 1]));
        Assert.Equal(flip ? 1f : 0f, got[0]); // t = 0: sin 0 = 0 and cos 0 = 1, exactly
    }

    [Theory]
    [InlineData(8, false, 0f)]
    [InlineData(9, true, 1f)]
    [InlineData(320, true, 0f)]
    public void Fractional_F32_timesteps_match_float64_formula(int dim, bool flip, float shift)
    {
        // Karras-sigma schedulers hand the UNet fractional timesteps; the kernel reads each float exactly.
        float[] timesteps = [0.5f, 999.0f, 1.25f, 500.7421875f, 12.345f, 998.62134f, 0.029f];
        using var t = Tensor.FromHost(device, timesteps, timesteps.Length);
        using var emb = TimestepEmbedding.Sinusoidal(t, dim, flip, shift);
        var got = emb.ToFloatArray();
        var expected = HostEmbedding([.. timesteps.Select(v => (double)v)], dim, flip, shift, 1.0, 10000);
        double error = Reference.RelativeError(got, expected);
        double worst = got.Select((v, i) => Math.Abs(v - expected[i])).Max();
        output.WriteLine($"F32 timesteps, dim={dim} flip={flip} shift={shift}: relative error {error:E2}, max abs {worst:E2}");
        Assert.True(error <= 1e-6 && worst <= 5e-7, $"relative {error:E2}, max abs {worst:E2}");
    }

    [Fact]
    public void Integral_F32_timesteps_give_the_I32_bits()
    {
        int[] steps = [0, 1, 37, 500, 999];
        using var ints = Tensor.FromHost(device, steps, steps.Length);
        using var floats = Tensor.FromHost(device, [.. steps.Select(v => (float)v)], steps.Length);
        using var fromInts = TimestepEmbedding.Sinusoidal(ints, 32, true, 0f);
        using var fromFloats = TimestepEmbedding.Sinusoidal(floats, 32, true, 0f);
        Assert.Equal(fromInts.ToFloatArray(), fromFloats.ToFloatArray());
    }

    [Fact]
    public void A_single_timestep_broadcasts_over_the_rows()
    {
        using var one = Tensor.FromHost(device, [500], 1);
        using var three = Tensor.FromHost(device, [500, 500, 500], 3);
        using var broadcast = TimestepEmbedding.Sinusoidal(one, 16, true, 0f, rows: 3);
        using var explicitRows = TimestepEmbedding.Sinusoidal(three, 16, true, 0f);
        Assert.Equal(new Shape(3, 16), broadcast.Shape);
        Assert.Equal(explicitRows.ToFloatArray(), broadcast.ToFloatArray());
    }

    [Fact]
    public void A_one_column_embedding_is_the_zero_padding()
    {
        using var t = Tensor.FromHost(device, [3, 999], 2);
        using var emb = TimestepEmbedding.Sinusoidal(t, 1, flipSinToCos: true, downscaleFreqShift: 1f);
        Assert.Equal([0f, 0f], emb.ToFloatArray());
    }

    [Fact]
    public void Bad_arguments_are_refused_before_launch()
    {
        using var t = Tensor.FromHost(device, [1, 2], 2);
        using var t2d = Tensor.FromHost(device, [1, 2], 1, 2);
        using var ht = Tensor.FromHost(device, [(Half)1f, (Half)2f], 2);
        string Param(Action a) => Assert.Throws<ArgumentException>(a).ParamName!;
        Assert.Equal("timesteps", Param(() => TimestepEmbedding.Sinusoidal(ht, 8, true, 0f)));
        Assert.Equal("timesteps", Param(() => TimestepEmbedding.Sinusoidal(t, 8, true, 0f, rows: 3)));
        Assert.Equal("rows", Param(() => TimestepEmbedding.Sinusoidal(t, 8, true, 0f, rows: 0)));
        Assert.Equal("timesteps", Param(() => TimestepEmbedding.Sinusoidal(t2d, 8, true, 0f)));
        Assert.Equal("dim", Param(() => TimestepEmbedding.Sinusoidal(t, 0, true, 0f)));
        Assert.Equal("downscaleFreqShift", Param(() => TimestepEmbedding.Sinusoidal(t, 2, true, 1f)));
        Assert.Equal("maxPeriod", Param(() => TimestepEmbedding.Sinusoidal(t, 8, true, 0f, maxPeriod: 0)));
        Assert.Equal("scale", Param(() => TimestepEmbedding.Sinusoidal(t, 8, true, 0f, scale: float.PositiveInfinity)));
    }
}
