namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Host-side argument checks every launcher runs before it queues a kernel: on the CPU accelerator an
/// out-of-range access kills the process, so no bad shape may reach a launch. Messages name the op and argument.
/// </summary>
internal static class Require
{
    public static void DType(string op, string name, Tensor t, DType expected)
    {
        if (t.DType != expected) throw new ArgumentException($"{op}: {name} is {t.DType} {t.Shape}, expected {expected}.", name);
    }

    public static void SameShape(string op, string name, Tensor t, Tensor reference, string referenceName)
    {
        if (!t.Shape.Equals(reference.Shape))
            throw new ArgumentException($"{op}: {name} has shape {t.Shape}, expected {referenceName}'s shape {reference.Shape}.", name);
    }

    public static void SameDevice(string op, string name, Tensor t, Device device)
    {
        if (!ReferenceEquals(t.Device, device))
            throw new ArgumentException($"{op}: {name} lives on {t.Device}, the other operands on {device}.", name);
    }

    public static void Rank(string op, string name, Tensor t, int rank)
    {
        if (t.Shape.Rank != rank) throw new ArgumentException($"{op}: {name} has shape {t.Shape}, expected rank {rank}.", name);
    }

    public static void Shape(string op, string name, Tensor t, params int[] expected)
    {
        if (!t.Shape.Equals(new Shape(expected)))
            throw new ArgumentException($"{op}: {name} has shape {t.Shape}, expected [{string.Join(", ", expected)}].", name);
    }

    /// <summary>t has <paramref name="reference"/>'s dtype, device and shape (an output or gradient paired with an input).</summary>
    public static void Like(string op, string name, Tensor t, Tensor reference, string referenceName)
    {
        DType(op, name, t, reference.DType);
        SameDevice(op, name, t, reference.Device);
        SameShape(op, name, t, reference, referenceName);
    }
}
