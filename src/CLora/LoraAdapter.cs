using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Nn;

namespace IlgpuDiffusion.CLora;

/// <summary>
/// A low-rank adapter on a linear layer, y' = y + (x·downᵀ)·upᵀ, i.e. W' = W + up·down with scale 1 (diffusers'
/// LoRALinearLayer with network_alpha None; C-LoRA's ΔW = A·B has no α/r factor). down [r, in] and up [out, r] are
/// trainable fp32 leaves. <see cref="Fresh"/> draws the standard LoRA start, so ΔW = 0 at step 0.
/// </summary>
public sealed class LoraAdapter : ILinearAdapter, IDisposable
{
    /// <summary>An adapter over the given factors, taking ownership of them.</summary>
    /// <exception cref="ArgumentException">A factor is not F32 or the shapes are not [r, in] and [out, r].</exception>
    public LoraAdapter(Var down, Var up)
    {
        ArgumentNullException.ThrowIfNull(down);
        ArgumentNullException.ThrowIfNull(up);
        if (down.Value.DType != DType.F32 || up.Value.DType != DType.F32 || down.Shape.Rank != 2 || up.Shape.Rank != 2
            || up.Shape[1] != down.Shape[0])
            throw new ArgumentException($"LoRA factors down {down} and up {up} must be F32 [r, in] and [out, r].", nameof(up));
        Down = down;
        Up = up;
    }

    /// <summary>The input-side factor [r, in].</summary>
    public Var Down { get; }

    /// <summary>The output-side factor [out, r].</summary>
    public Var Up { get; }

    public int Rank => Down.Shape[0];

    public int InFeatures => Down.Shape[1];

    public int OutFeatures => Up.Shape[0];

    /// <summary>The number of trainable values, r·(in + out).</summary>
    public long ParameterCount => (long)Rank * (InFeatures + OutFeatures);

    /// <summary>
    /// A fresh adapter as loralib and peft start one: up = 0, down Kaiming-uniform with a = √5, i.e. uniform in
    /// [−1/√in, 1/√in), drawn with Philox from (<paramref name="seed"/>, <paramref name="stream"/>) so it is the same
    /// on every device. <paramref name="name"/> prefixes the factors' names.
    /// </summary>
    public static LoraAdapter Fresh(Device device, string name, int inFeatures, int outFeatures, int rank, ulong seed, ulong stream)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        float bound = 1f / MathF.Sqrt(inFeatures);
        float[] values;
        using (var uniform = Tensor.Empty(device, DType.F32, rank, inFeatures))
        {
            Philox.Uniform(uniform, seed, stream);
            values = uniform.ToFloatArray();
        }
        for (int i = 0; i < values.Length; i++) values[i] = (2f * values[i] - 1f) * bound;
        var down = Var.Parameter(Tensor.FromHost(device, values, rank, inFeatures), name + ".lora_down");
        var up = Var.Parameter(Tensor.Zeros(device, DType.F32, outFeatures, rank), name + ".lora_up");
        return new LoraAdapter(down, up);
    }

    /// <summary>y + (x·downᵀ)·upᵀ for x [.., in] and y [.., out].</summary>
    public Var Apply(Var x, Var y)
    {
        using var projected = Ops.Linear(x, Down);
        using var delta = Ops.Linear(projected, Up);
        return Ops.Add(y, delta);
    }

    /// <summary><paramref name="target"/> [out, in] (F32) += up·down: folds ΔW into a weight or into the past deltas P.</summary>
    public void AddDeltaTo(Tensor target) => Gemm.MatMul(Up.Value, Down.Value, target, beta: 1f);

    public void Dispose()
    {
        Down.Dispose();
        Up.Dispose();
    }
}
