using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.CLora;

/// <summary>
/// The data of one training step, on the device (the caller owns the tensors): clean latents x0 [N, h, w, 4]
/// (channels-last, already × the VAE scaling factor), the noise ε of the same shape, the timesteps (I32 [N]) and the
/// prompts' input ids (I32 [N, 77]).
/// </summary>
public sealed record CLoraBatch(Tensor Latents, Tensor Noise, Tensor Timesteps, Tensor InputIds);
