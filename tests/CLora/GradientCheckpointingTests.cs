using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.CLora;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.CLora;

/// <summary>The trainer's gradients with the UNet's gradient checkpointing on and off, on the tiny fixture model.</summary>
public sealed class GradientCheckpointingTests
{
    [Fact]
    public void Checkpointed_gradients_of_the_factors_and_the_token_equal_the_recorded_ones()
    {
        using var model = new TrainerModel();
        using var adapters = AdapterSet.Attach(model.UNet, new AdapterOptions { Rank = 2, Seed = 3 });
        foreach (var (layer, seed) in adapters.Layers.Select((l, i) => (l, (ulong)i)))
            Philox.Normal(layer.Adapter.Up.Value, seed + 100); // a non-zero up, so every factor gets a gradient
        var plain = Gradients(model, adapters, checkpointing: false, out int plainNodes);
        var checkpointed = Gradients(model, adapters, checkpointing: true, out int checkpointedNodes);

        Assert.True(checkpointedNodes < plainNodes, $"the tape kept {checkpointedNodes} nodes with checkpointing, {plainNodes} without");
        Assert.Equal(plain.Count, checkpointed.Count);
        foreach (var ((name, expected), (_, actual)) in plain.Zip(checkpointed))
        {
            double scale = expected.Max(v => Math.Abs((double)v));
            double error = expected.Zip(actual, (e, a) => Math.Abs((double)e - a)).Max();
            Assert.True(scale > 0, $"{name}: zero gradient");
            Assert.True(error <= 1e-5 * scale, $"{name}: max |Δ| {error:G3} against max |g| {scale:G3}");
        }
    }

    /// <summary>The loss gradients of every factor and of the token row, and the number of nodes the tape recorded.</summary>
    private static List<(string Name, float[] Values)> Gradients(TrainerModel m, AdapterSet adapters, bool checkpointing, out int nodes)
    {
        m.UNet.GradientCheckpointing = checkpointing;
        var batch = Batch(m);
        try
        {
            using var tape = Tape.Record();
            using var terms = CLoraLoss.Compute(m.UNet, m.TextEncoder, adapters, m.Past, m.Schedule, batch, 0f);
            nodes = tape.Count;
            tape.Backward(terms.Total);
            var row = m.Tokens.TrainingGradient!.Value;
            var gradients = adapters.NamedParameters().Select(p => (p.Name, p.Value.Grad!.ToFloatArray())).ToList();
            gradients.Add(("token", row.Tensor.ToFloatArray().AsSpan(row.Offset, row.Count).ToArray()));
            return gradients;
        }
        finally
        {
            foreach (var (_, leaf) in adapters.NamedParameters()) leaf.ZeroGrad();
            m.Tokens.Rows!.ZeroGrad();
            m.UNet.GradientCheckpointing = false;
            foreach (var t in new[] { batch.Latents, batch.Noise, batch.Timesteps, batch.InputIds }) t.Dispose();
        }
    }

    /// <summary>Two samples of seeded 8×8 latents and noise at timesteps 200 and 800, prompted with the concept token.</summary>
    private static CLoraBatch Batch(TrainerModel m)
    {
        var latents = Tensor.Empty(Devices.Portable, DType.F32, 2, 8, 8, 4);
        var noise = Tensor.Empty(Devices.Portable, DType.F32, 2, 8, 8, 4);
        Philox.Normal(latents, 1);
        Philox.Normal(noise, 2);
        int[] ids = [.. m.Tokenizer.Encode($"a photo of {TrainerModel.TokenText}"), .. m.Tokenizer.Encode($"{TrainerModel.TokenText} on a beach")];
        return new CLoraBatch(latents, noise, Tensor.FromHost(Devices.Portable, [200, 800], 2), Tensor.FromHost(Devices.Portable, ids, 2, ids.Length / 2));
    }
}
