using System.Diagnostics;
using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Schedulers;
using IlgpuDiffusion.Model.UNet;

namespace IlgpuDiffusion.Model.Pipelines;

/// <summary>
/// The scheduler loop of one batch, as diffusers' pipeline runs it: per step, scale the latents, run the UNet once on
/// <c>[uncond; cond]</c> (the latents twice; only the conditional half when unguided), mix
/// <c>uncond + g·(cond − uncond)</c> in float32, and step the scheduler. Latents stay on the host between steps (NCHW,
/// a few KB per image); the UNet runs channels-last on the device.
/// </summary>
internal sealed class Denoiser(UNet2DCondition unet, Device device)
{
    /// <summary>
    /// Denoises <paramref name="latents"/> from step <paramref name="startIndex"/> of <paramref name="scheduler"/> to its
    /// end with the conditioning <paramref name="context"/> (<c>[2B, L, C]</c> guided, else <c>[B, L, C]</c>) and
    /// reports each step to <paramref name="onStep"/> (step number from 1, elapsed time, latents).
    /// </summary>
    public HostTensor Run(HostTensor latents, Scheduler scheduler, int startIndex, Var context, float? guidance,
        INoiseSource noise, Action<int, TimeSpan, HostTensor> onStep)
    {
        var shape = latents.Shape.ToArray();
        var clock = Stopwatch.StartNew();
        for (int index = startIndex; index < scheduler.Timesteps.Count; index++)
        {
            var input = scheduler.ScaleModelInput(latents.Values, index);
            float[] prediction = Predict(guidance is null ? input : [.. input, .. input], shape, scheduler.Timesteps[index], context);
            if (guidance is { } g) prediction = Guide(prediction, g);
            latents = new HostTensor(scheduler.Step(prediction, index, latents.Values, noise).PrevSample, shape);
            onStep(index - startIndex + 1, clock.Elapsed, latents);
        }
        return latents;
    }

    /// <summary>The UNet's NCHW noise prediction for NCHW <paramref name="input"/> (one or two copies of the batch).</summary>
    private float[] Predict(float[] input, int[] shape, double timestep, Var context)
    {
        int samples = input.Length / (shape[1] * shape[2] * shape[3]);
        using var nchw = Tensor.FromHost(device, input, samples, shape[1], shape[2], shape[3]);
        using var sample = Var.Constant(Layout.NchwToNhwc(nchw));
        using var time = Timestep(timestep);
        using var output = unet.Forward(sample, time, context);
        using var prediction = Layout.NhwcToNchw(output.Value);
        return prediction.ToFloatArray();
    }

    /// <summary>The timestep as the UNet takes it: I32 when it is a whole number (diffusers' integer timesteps), else F32 (Karras Euler/LMS).</summary>
    private Tensor Timestep(double timestep) => timestep == Math.Floor(timestep)
        ? Tensor.FromHost(device, [(int)timestep], 1)
        : Tensor.FromHost(device, [(float)timestep], 1);

    /// <summary>Classifier-free guidance over the <c>[uncond; cond]</c> halves: uncond + g·(cond − uncond), float32 as torch.</summary>
    private static float[] Guide(float[] prediction, float guidance)
    {
        int half = prediction.Length / 2;
        var guided = new float[half];
        for (int i = 0; i < half; i++)
        {
            float uncond = prediction[i], cond = prediction[half + i];
            guided[i] = uncond + guidance * (cond - uncond);
        }
        return guided;
    }
}
