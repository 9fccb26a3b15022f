using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The fused AdamW step on fp32 parameters and state. Every operand is a <see cref="TensorSlice"/>, so a step can
/// update part of a tensor only (the concept token's row of the embedding table) with state the size of that part.
/// </summary>
public static class Optimizer
{
    /// <summary>Validated operands of one AdamW step, with the per-step constants computed on the host.</summary>
    internal readonly record struct AdamWArgs(
        TensorSlice Param, TensorSlice Grad, TensorSlice M, TensorSlice V, Tensor? GradScale, AdamWConstants Constants);

    /// <summary>
    /// The scalars of one step, passed to the kernel as one value: Decay = 1 − lr·wd (decoupled weight decay),
    /// StepSize = lr / (1 − β1^t), SqrtBias2 = √(1 − β2^t), HasGradScale = 1 when a scale tensor is passed.
    /// </summary>
    internal readonly record struct AdamWConstants(
        float Decay, float Beta1, float Beta2, float Epsilon, float StepSize, float SqrtBias2, int HasGradScale);

    private static readonly OpDispatcher<AdamWArgs> dispatcher =
        new(new KernelVariant<AdamWArgs>("adamw-portable", KernelTier.Portable, (_, _) => true, LaunchPortable));

    /// <summary>
    /// One AdamW step t (1-based) in place, as torch.optim.AdamW (amsgrad off): with g = grad · scale,
    /// p ← p·(1 − lr·wd); m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²;
    /// p ← p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + ε).
    /// <paramref name="gradScale"/>, when given, is a one-element F32 tensor read on the device (the factor
    /// <see cref="GradientClipping.ClipScale"/> computes), so clipping needs no host round trip; otherwise scale = 1.
    /// </summary>
    /// <exception cref="ArgumentException">An operand is not F32, the slices differ in length or device, the step is
    /// below 1, or a setting is out of range.</exception>
    public static void AdamWStep(
        TensorSlice param, TensorSlice grad, TensorSlice m, TensorSlice v, AdamWSettings settings, int step, Tensor? gradScale = null)
    {
        const string op = nameof(AdamWStep);
        RequireF32Slice(op, nameof(param), param);
        var device = param.Tensor.Device;
        foreach (var (name, slice) in new[] { (nameof(grad), grad), (nameof(m), m), (nameof(v), v) })
        {
            RequireF32Slice(op, name, slice);
            Require.SameDevice(op, name, slice.Tensor, device);
            if (slice.Count != param.Count)
                throw new ArgumentException($"{op}: {name} {slice} has {slice.Count} elements, param {param} has {param.Count}.", name);
        }
        settings.Validate();
        if (step < 1) throw new ArgumentException($"{op}: step {step} must be ≥ 1 (the first step is 1).", nameof(step));
        if (gradScale is not null)
        {
            Require.DType(op, nameof(gradScale), gradScale, DType.F32);
            Require.SameDevice(op, nameof(gradScale), gradScale, device);
            Require.Shape(op, nameof(gradScale), gradScale, 1);
        }
        dispatcher.Launch(device, new AdamWArgs(param, grad, m, v, gradScale, Constants(settings, step, gradScale is not null)));
    }

    private static AdamWConstants Constants(AdamWSettings s, int step, bool hasGradScale)
    {
        // torch computes the bias corrections in double on the host too (beta ** step with Python floats).
        double bias1 = 1.0 - Math.Pow(s.Beta1, step), bias2 = 1.0 - Math.Pow(s.Beta2, step);
        return new AdamWConstants(
            Decay: (float)(1.0 - (double)s.LearningRate * s.WeightDecay),
            s.Beta1, s.Beta2, s.Epsilon,
            StepSize: (float)(s.LearningRate / bias1),
            SqrtBias2: (float)Math.Sqrt(bias2),
            HasGradScale: hasGradScale ? 1 : 0);
    }

    private static void RequireF32Slice(string op, string name, TensorSlice slice)
    {
        if (slice.Tensor is null) throw new ArgumentException($"{op}: {name} is an empty slice.", name);
        Require.DType(op, name, slice.Tensor, DType.F32);
    }

    private static void LaunchPortable(Device device, AdamWArgs a)
    {
        var scale = a.GradScale is null ? ArrayView<float>.Empty : a.GradScale.F32View;
        device.Accelerator.LaunchAutoGrouped(
            AdamWKernel, device.Stream, new Index1D(a.Param.Count),
            a.Param.F32View, a.Grad.F32View, a.M.F32View, a.V.F32View, scale, a.Constants);
    }

    /// <summary>One thread per parameter element.</summary>
    [Kernel]
    internal static void AdamWKernel(
        Index1D i, ArrayView<float> param, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v,
        ArrayView<float> gradScale, AdamWConstants c)
    {
        float g = c.HasGradScale == 1 ? grad[i] * gradScale[0] : grad[i];
        float mi = c.Beta1 * m[i] + (1f - c.Beta1) * g;
        float vi = c.Beta2 * v[i] + (1f - c.Beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        float p = param[i] * c.Decay;
        param[i] = p - c.StepSize * mi / (MathF.Sqrt(vi) / c.SqrtBias2 + c.Epsilon);
    }
}
