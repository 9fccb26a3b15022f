using IlgpuDiffusion.CLora.Interop;
using IlgpuDiffusion.Tests.Support;
using static IlgpuDiffusion.Tests.CLora.Interop.TinyModules;

namespace IlgpuDiffusion.Tests.CLora.Interop;

public sealed class LoraLayerDeltaTests
{
    [Theory]
    [InlineData(null, 0.7, 0.7)]
    [InlineData(3f, 1.0, 0.5)]
    [InlineData(12f, -0.5, -1.0)]
    public void Linear_delta_is_weight_times_alpha_over_rank_times_up_down(float? alpha, double weight, double expectedFactor)
    {
        var layer = new LoraLayerDelta(LoraComponent.UNet, ToK, Random([6, 33], 1), [6, 33], Random([17, 6], 2), [17, 6], alpha);
        var delta = layer.ComputeDelta(weight);
        Assert.Equal([17, 33], layer.DeltaShape);
        Assert.True(Reference.RelativeError(delta, Product(layer.Up.Span, layer.Down.Span, 17, 6, expectedFactor)) <= 1e-6);
    }

    [Fact]
    public void LoCon_delta_applied_as_a_convolution_equals_the_3x3_down_then_1x1_up_convolutions()
    {
        const int cin = 3, cout = 5, rank = 2, size = 6;
        var layer = new LoraLayerDelta(LoraComponent.UNet, "mid_block.resnets.0.conv1", Random([rank, cin, 3, 3], 1), [rank, cin, 3, 3],
            Random([cout, rank, 1, 1], 2), [cout, rank, 1, 1], alpha: 1);
        var x = Random([cin, size, size], 3);
        var delta = layer.ComputeDelta();
        Assert.Equal([cout, cin, 3, 3], layer.DeltaShape);
        var viaDelta = Conv(Wide(x), cin, size, Wide(delta), cout, 3);
        var hidden = Conv(Wide(x), cin, size, Wide(layer.Down.ToArray()), rank, 3);
        var viaFactors = Conv(hidden, rank, size - 2, Wide(layer.Up.ToArray()), cout, 1);
        Assert.True(Reference.RelativeError([.. viaDelta.Select(v => (float)v)], [.. viaFactors.Select(v => 0.5 * v)]) <= 1e-6);
    }

    [Fact]
    public void Concatenated_tasks_give_the_sum_of_their_deltas_with_scale_one()
    {
        LoraLayerDelta[] tasks =
        [
            new(LoraComponent.UNet, MidToV, Random([4, 32], 1), [4, 32], Random([64, 4], 2), [64, 4]),
            new(LoraComponent.UNet, MidToV, Random([2, 32], 3), [2, 32], Random([64, 2], 4), [64, 2], alpha: 1),
            new(LoraComponent.UNet, MidToV, Random([3, 32], 5), [3, 32], Random([64, 3], 6), [64, 3], alpha: 6),
        ];
        var joined = LoraLayerDelta.Concatenate(tasks);
        Assert.Equal(9, joined.Rank);
        Assert.Equal(9f, joined.Alpha);
        Assert.Equal(1.0, joined.Scale);
        Assert.Equal([9, 32], joined.DownShape);
        Assert.Equal([64, 9], joined.UpShape);
        var expected = new double[64 * 32];
        foreach (var task in tasks)
        {
            var part = Product(task.Up.Span, task.Down.Span, 64, task.Rank, task.Scale);
            for (int i = 0; i < expected.Length; i++) expected[i] += part[i];
        }
        Assert.True(Reference.RelativeError(joined.ComputeDelta(), expected) <= 1e-6);
    }

    [Fact]
    public void Concatenating_layers_of_different_modules_is_refused()
    {
        LoraLayerDelta[] parts =
        [
            new(LoraComponent.UNet, ToK, Random([2, 32], 1), [2, 32], Random([32, 2], 2), [32, 2]),
            new(LoraComponent.UNet, MidToV, Random([2, 32], 3), [2, 32], Random([64, 2], 4), [64, 2]),
        ];
        Assert.Contains("expected the same module and shapes", Assert.Throws<ArgumentException>(() => LoraLayerDelta.Concatenate(parts)).Message);
    }

    [Theory]
    [InlineData(new[] { 4 }, new[] { 32, 4 }, "down has shape [4]")]
    [InlineData(new[] { 4, 32 }, new[] { 32, 3 }, "expected [out, 4]")]
    [InlineData(new[] { 4, 32, 3, 3 }, new[] { 32, 4, 3, 3 }, "expected [out, 4] or [out, 4, 1, 1]")]
    public void Factors_that_do_not_fit_together_are_refused_naming_the_module(int[] downShape, int[] upShape, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() =>
            new LoraLayerDelta(LoraComponent.UNet, ToK, Random(downShape, 1), downShape, Random(upShape, 2), upShape));
        Assert.Contains($"LoRA layer '{ToK}'", error.Message);
        Assert.Contains(expected, error.Message);
    }

    /// <summary>A valid (unpadded) convolution of x [cin, size, size] with w [cout, cin, k, k], in float64 with 4-D indexing.</summary>
    private static double[] Conv(double[] x, int cin, int size, double[] w, int cout, int k)
    {
        int outSize = size - k + 1;
        var y = new double[cout * outSize * outSize];
        for (int co = 0; co < cout; co++)
            for (int oy = 0; oy < outSize; oy++)
                for (int ox = 0; ox < outSize; ox++)
                {
                    double sum = 0;
                    for (int ci = 0; ci < cin; ci++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++)
                                sum += w[((co * cin + ci) * k + ky) * k + kx] * x[(ci * size + oy + ky) * size + ox + kx];
                    y[(co * outSize + oy) * outSize + ox] = sum;
                }
        return y;
    }

    private static double[] Wide(float[] values) => [.. values.Select(v => (double)v)];
}
