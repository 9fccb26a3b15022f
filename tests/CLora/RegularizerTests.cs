using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.CLora;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Autograd;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.CLora;

/// <summary>CLoraOps.Regularizer: λ·Σ M⊙(up·down)² over several layers, its gradients, and where it must be exactly 0.</summary>
public sealed class RegularizerTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.Portable;

    /// <summary>Two masked layers of odd sizes and one without a mask (skipped), as (out, rank, in).</summary>
    private static readonly (int Out, int Rank, int In)[] Layers = [(5, 3, 7), (4, 2, 6), (3, 2, 3)];

    private static double[] Mask(int layer) =>
        [.. Reference.RandomNormal(Layers[layer].Out * Layers[layer].In, 300 + layer).Select(p => (double)p * p)];

    [Fact]
    public void Matches_a_float64_reference_and_finite_differences()
    {
        const float lambda = 0.7f;
        var masks = new List<Tensor?>();
        try
        {
            for (int l = 0; l < Layers.Length; l++)
                masks.Add(l == 2 ? null : Tensor.FromHost(device, [.. Mask(l).Select(m => (float)m)], Layers[l].Out, Layers[l].In));
            // The unmasked layer's factors must get no gradient at all.
            var inputs = Layers.SelectMany((d, l) => new[]
            {
                new GraphInput(310 + 2 * l, [d.Out, d.Rank], Trains: l != 2), new GraphInput(311 + 2 * l, [d.Rank, d.In], Trains: l != 2),
            }).ToArray();
            new GradientCheck(output).Run("C-LoRA regulariser",
                v => CLoraOps.Regularizer([.. Layers.Select((_, l) => new LoraAdapter(v[2 * l + 1], v[2 * l]))], masks, lambda),
                h => [lambda * Enumerable.Range(0, 2).Sum(l => HostRegularizer(Mask(l), h[2 * l], h[2 * l + 1], Layers[l]))],
                inputs);
        }
        finally
        {
            foreach (var m in masks) m?.Dispose();
        }
    }

    [Fact]
    public void Is_a_constant_zero_without_past_deltas_and_exactly_zero_with_up_zero()
    {
        using var down = Var.Parameter(Tensor.FromHost(device, Reference.RandomNormal(3 * 7, 320), 3, 7));
        using var up = Var.Parameter(Tensor.Zeros(device, DType.F32, 5, 3));
        var adapter = new LoraAdapter(down, up);
        using var mask = Tensor.FromHost(device, [.. Mask(0).Select(m => (float)m)], 5, 7);
        using var tape = Tape.Record();

        // Task 1: no P, so no kernel and no graph node.
        using (var none = CLoraOps.Regularizer([adapter], [null], 1e6f))
        {
            Assert.False(none.RequiresGrad);
            Assert.Equal(0, tape.Count);
            Assert.Equal([0f], none.Value.ToFloatArray());
        }

        // Step 0 of a later task: up = 0 makes ΔW = 0, so the value and both gradients are exactly 0.
        using var reg = CLoraOps.Regularizer([adapter], [mask], 1e6f);
        tape.Backward(reg);
        Assert.Equal([0f], reg.Value.ToFloatArray());
        Assert.All(up.Grad!.ToFloatArray(), g => Assert.Equal(0f, g));
        Assert.All(down.Grad!.ToFloatArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void Past_deltas_give_masks_p_squared_and_the_sign_of_p_does_not_matter()
    {
        var (o, r, i) = Layers[0];
        var p = Reference.RandomNormal(o * i, 330);
        using var down = Var.Parameter(Tensor.FromHost(device, Reference.RandomNormal(r * i, 331), r, i));
        using var up = Var.Parameter(Tensor.FromHost(device, Reference.RandomNormal(o * r, 332), o, r));
        var adapter = new LoraAdapter(down, up);
        float Value(float sign)
        {
            using var past = new PastDeltas();
            past.Set("layer", Tensor.FromHost(device, [.. p.Select(v => sign * v)], o, i));
            Assert.Equal(p.Select(v => v * v), past.Mask("layer")!.ToFloatArray());
            using var reg = CLoraOps.Regularizer([adapter], [past.Mask("layer")], 1f);
            return reg.Value.ToFloatArray()[0];
        }

        Assert.Equal(Value(1f), Value(-1f));
    }

    /// <summary>Σ M⊙(up·down)² in float64.</summary>
    internal static double HostRegularizer(double[] mask, double[] up, double[] down, (int Out, int Rank, int In) d)
    {
        double sum = 0;
        for (int o = 0; o < d.Out; o++)
            for (int i = 0; i < d.In; i++)
            {
                double delta = 0;
                for (int k = 0; k < d.Rank; k++) delta += up[o * d.Rank + k] * down[k * d.In + i];
                sum += mask[o * d.In + i] * delta * delta;
            }
        return sum;
    }
}
