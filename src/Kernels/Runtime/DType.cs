namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Element types a tensor can hold on the device. Token ids and timesteps are <see cref="I32"/> end to end:
/// in F16 the id 49407 would round to 49408. BF16, F64 and I64 exist only in files and are converted at load.
/// </summary>
public enum DType
{
    F32,
    F16,
    I32,
}

/// <summary>Sizes and names of <see cref="DType"/> values.</summary>
public static class DTypeExtensions
{
    /// <summary>Bytes per element.</summary>
    public static int Size(this DType dtype) => dtype switch
    {
        DType.F32 => 4,
        DType.F16 => 2,
        DType.I32 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>True for the floating-point types.</summary>
    public static bool IsFloat(this DType dtype) => dtype is DType.F32 or DType.F16;
}
