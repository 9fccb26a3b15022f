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

    public static void MinRank(string op, string name, Tensor t, int rank)
    {
        if (t.Shape.Rank < rank) throw new ArgumentException($"{op}: {name} has shape {t.Shape}, expected rank {rank} or more.", name);
    }

    public static void Finite(string op, string name, float value)
    {
        if (!float.IsFinite(value)) throw new ArgumentException($"{op}: {name} is {value}, expected a finite number.", name);
    }

    public static void Shape(string op, string name, Tensor t, params int[] expected)
    {
        if (!t.Shape.Equals(new Shape(expected)))
            throw new ArgumentException($"{op}: {name} has shape {t.Shape}, expected [{string.Join(", ", expected)}].", name);
    }

    /// <summary>The tensor holds floats: F32 or F16 (weights may be stored in either).</summary>
    public static void FloatDType(string op, string name, Tensor t)
    {
        if (!t.DType.IsFloat()) throw new ArgumentException($"{op}: {name} is {t.DType} {t.Shape}, expected F32 or F16.", name);
    }

    /// <summary>A condition on a non-tensor argument (a size, stride, offset); the message says what was expected.</summary>
    public static void That(bool condition, string op, string name, string message)
    {
        if (!condition) throw new ArgumentException($"{op}: {message}", name);
    }

    public static void DType(string op, string name, Tensor t, params DType[] allowed)
    {
        if (Array.IndexOf(allowed, t.DType) < 0)
            throw new ArgumentException($"{op}: {name} is {t.DType} {t.Shape}, expected {string.Join(" or ", allowed)}.", name);
    }

    /// <summary>Refuses an output that shares storage with an input the same kernel reads while writing it.</summary>
    public static void Distinct(string op, string name, Tensor t, Tensor input, string inputName)
    {
        if (ReferenceEquals(StorageOf(t), StorageOf(input)))
            throw new ArgumentException($"{op}: {name} {t.Shape} shares storage with {inputName} {input.Shape}; the kernel would read what it writes.", name);
    }

    private static ILGPU.Runtime.MemoryBuffer StorageOf(Tensor t) => t.DType switch
    {
        Kernels.DType.F32 => ((ILGPU.IArrayView)t.F32View).Buffer,
        Kernels.DType.F16 => ((ILGPU.IArrayView)t.F16View).Buffer,
        _ => ((ILGPU.IArrayView)t.I32View).Buffer,
    };

    /// <summary>t has <paramref name="reference"/>'s dtype, device and shape (an output or gradient paired with an input).</summary>
    public static void Like(string op, string name, Tensor t, Tensor reference, string referenceName)
    {
        DType(op, name, t, reference.DType);
        SameDevice(op, name, t, reference.Device);
        SameShape(op, name, t, reference, referenceName);
    }
}
