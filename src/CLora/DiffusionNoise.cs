using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Schedulers;

namespace IlgpuDiffusion.CLora;

/// <summary>The training forward process and loss weighting on device latents (the data side of a step: not differentiated).</summary>
public static class DiffusionNoise
{
    /// <summary>
    /// DDPMScheduler.add_noise on the device: √ᾱ_t·x0 + √(1 − ᾱ_t)·noise per sample, with the two coefficients
    /// rounded to float as <see cref="NoiseSchedule.AddNoise"/> computes them, so both give the same bits.
    /// </summary>
    /// <param name="schedule">The training noise schedule (ᾱ).</param>
    /// <param name="x0">Clean latents [N, .., C] (F32, channels-last).</param>
    /// <param name="noise">ε, the shape of <paramref name="x0"/>.</param>
    /// <param name="timesteps">One timestep in [0, T) per sample.</param>
    /// <exception cref="ArgumentException">Shapes or the timestep count do not fit, or a timestep is out of range.</exception>
    public static Tensor AddNoise(NoiseSchedule schedule, Tensor x0, Tensor noise, IReadOnlyList<int> timesteps)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(x0);
        ArgumentNullException.ThrowIfNull(noise);
        ArgumentNullException.ThrowIfNull(timesteps);
        if (x0.Shape.Rank < 2 || timesteps.Count != x0.Shape[0])
            throw new ArgumentException($"add_noise: {timesteps.Count} timestep(s) for latents {x0.Shape}; expected one per sample.", nameof(timesteps));
        var alphas = Alphas(schedule, timesteps);
        int channels = x0.Shape[-1];
        using var signal = PerSample(x0.Device, [.. alphas.Select(a => MathF.Sqrt(a))], channels);
        using var spread = PerSample(x0.Device, [.. alphas.Select(a => MathF.Sqrt(1f - a))], channels);
        using var scaledNoise = Tensor.Empty(x0.Device, DType.F32, noise.Shape.ToArray());
        Broadcast.MulPerSample(noise, spread, scaledNoise);
        var noisy = Tensor.Empty(x0.Device, DType.F32, x0.Shape.ToArray());
        try
        {
            Broadcast.MulPerSample(x0, signal, noisy);
            Elementwise.Add(noisy, scaledNoise, noisy);
            return noisy;
        }
        catch
        {
            noisy.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Min-SNR-γ weights of ε-prediction (Hang et al. 2023, as diffusers' training scripts): min(SNR_t, γ)/SNR_t with
    /// SNR_t = ᾱ_t/(1 − ᾱ_t), one per sample, for <see cref="IlgpuDiffusion.Autograd.Ops.Mse"/>'s sample weights.
    /// </summary>
    /// <exception cref="ArgumentException">γ is not positive, or a timestep is out of range.</exception>
    public static float[] MinSnrWeights(NoiseSchedule schedule, IReadOnlyList<int> timesteps, float gamma)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (!(gamma > 0) || float.IsInfinity(gamma)) throw new ArgumentException($"min-SNR γ {gamma} must be positive and finite.", nameof(gamma));
        return [.. Alphas(schedule, timesteps).Select(a =>
        {
            float snr = a / (1f - a);
            return MathF.Min(snr, gamma) / snr;
        })];
    }

    private static float[] Alphas(NoiseSchedule schedule, IReadOnlyList<int> timesteps)
    {
        var alphas = new float[timesteps.Count];
        for (int n = 0; n < alphas.Length; n++)
        {
            int t = timesteps[n];
            if ((uint)t >= (uint)schedule.TrainTimesteps)
                throw new ArgumentException($"add_noise: timestep {t} is outside [0, {schedule.TrainTimesteps}).", nameof(timesteps));
            alphas[n] = schedule.AlphasCumprod[t];
        }
        return alphas;
    }

    /// <summary>A [N, C] tensor holding values[n] in every channel of row n.</summary>
    private static Tensor PerSample(Device device, float[] values, int channels) =>
        Tensor.FromHost(device, [.. values.SelectMany(v => Enumerable.Repeat(v, channels))], values.Length, channels);
}
