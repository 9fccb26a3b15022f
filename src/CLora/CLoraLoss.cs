using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Schedulers;
using IlgpuDiffusion.Model.TextEncoder;
using IlgpuDiffusion.Model.UNet;

namespace IlgpuDiffusion.CLora;

/// <summary>The C-LoRA objective of one step (docs/clora-spec.md §2): L = mse(ε, ε_θ(z_t, t, c)) + λ·Σ M⊙(up·down)².</summary>
public static class CLoraLoss
{
    /// <summary>
    /// Noises the batch's latents at its timesteps (<see cref="DiffusionNoise.AddNoise"/>), encodes its prompts (the
    /// concept token rows included), runs the adapted UNet and returns the loss terms. Run it inside a recording tape
    /// and back-propagate <see cref="CLoraLossTerms.Total"/>: gradients reach the adapters' factors and the concept
    /// token rows, and through the regulariser the factors again.
    /// </summary>
    /// <param name="unet">The UNet, with <paramref name="adapters"/> attached.</param>
    /// <param name="textEncoder">The text encoder (its extra token rows hold the concept tokens).</param>
    /// <param name="adapters">This task's adapters, or null when the method trains none (kv-finetune, token-only): the
    /// regulariser is then a constant 0.</param>
    /// <param name="past">The past deltas (no entries on task 1: the regulariser is then 0 and costs nothing).</param>
    /// <param name="schedule">The training noise schedule.</param>
    /// <param name="batch">The step's data.</param>
    /// <param name="lambda">λ (≥ 0).</param>
    /// <param name="minSnrGamma">γ of min-SNR weighting of the MSE, or null for the plain mean.</param>
    /// <exception cref="ArgumentException">λ is negative or not finite, or the batch does not fit the models.</exception>
    public static CLoraLossTerms Compute(
        UNet2DCondition unet, ClipTextEncoder textEncoder, AdapterSet? adapters, PastDeltas past, NoiseSchedule schedule,
        CLoraBatch batch, float lambda, float? minSnrGamma = null)
    {
        ArgumentNullException.ThrowIfNull(unet);
        ArgumentNullException.ThrowIfNull(textEncoder);
        ArgumentNullException.ThrowIfNull(batch);
        if (!(lambda >= 0) || float.IsInfinity(lambda)) throw new ArgumentException($"λ {lambda} must be finite and ≥ 0.", nameof(lambda));
        if (batch.Timesteps.DType != DType.I32) throw new ArgumentException($"timesteps are {batch.Timesteps}; expected I32 [N].", nameof(batch));
        var timesteps = batch.Timesteps.ToIntArray();
        Var mse;
        using (var noisy = Var.Constant(DiffusionNoise.AddNoise(schedule, batch.Latents, batch.Noise, timesteps)))
        using (var text = textEncoder.Encode(batch.InputIds))
        using (var prediction = unet.Forward(noisy, batch.Timesteps, text.LastHiddenState))
        using (var target = Var.Constant(batch.Noise.Share()))
        using (var weights = minSnrGamma is { } gamma ? Tensor.FromHost(batch.Noise.Device, DiffusionNoise.MinSnrWeights(schedule, timesteps, gamma), timesteps.Length) : null)
            mse = Ops.Mse(prediction, target, weights);
        Var? regularizer = null;
        try
        {
            regularizer = adapters is null
                ? Var.Constant(Tensor.Zeros(batch.Noise.Device, DType.F32, 1), "clora.regularizer")
                : CLoraOps.Regularizer(adapters, past, 1f);
            using var weighted = Ops.Scale(regularizer, lambda);
            return new CLoraLossTerms(Ops.Add(mse, weighted), mse, regularizer, lambda);
        }
        catch
        {
            mse.Dispose();
            regularizer?.Dispose();
            throw;
        }
    }
}
