using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Autograd;

public static partial class Ops
{
    /// <summary>A new F32 tensor of <paramref name="shape"/> filled by <paramref name="write"/>; released if it throws.</summary>
    private static Tensor Compute(Device device, Shape shape, Action<Tensor> write)
    {
        var t = Tensor.Empty(device, DType.F32, shape.ToArray());
        try
        {
            write(t);
            return t;
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A node's saved list holding <paramref name="first"/> only when <paramref name="keepFirst"/> and
    /// <paramref name="second"/> only when <paramref name="keepSecond"/> (each shared); <see cref="Kept"/> reads it back.
    /// </summary>
    private static Tensor[] KeepEither(bool keepFirst, Var first, bool keepSecond, Var second) =>
        [.. keepFirst ? [first.Value.Share()] : Array.Empty<Tensor>(), .. keepSecond ? [second.Value.Share()] : Array.Empty<Tensor>()];

    /// <summary>The tensors <see cref="KeepEither"/> saved, null where one was not kept.</summary>
    private static (Tensor? First, Tensor? Second) Kept(Tensor[] saved, bool keepFirst, bool keepSecond) =>
        (keepFirst ? saved[0] : null, keepSecond ? saved[^1] : null);

    /// <summary>Refuses a trainable F16 tensor: gradients and optimizer state are F32, so F16 weights are frozen only.</summary>
    private static void RequireFrozenIfHalf(string op, Var v, string name)
    {
        if (v.RequiresGrad && v.Value.DType == DType.F16)
            throw new ArgumentException(
                $"{op}: {name} {v} is F16 and requires grad; F16 weights are frozen only (train an F32 copy or an adapter).", name);
    }
}
