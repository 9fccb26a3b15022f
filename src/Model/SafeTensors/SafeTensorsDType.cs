namespace IlgpuDiffusion.Model.SafeTensors;

/// <summary>
/// The element types this engine reads from and writes to safetensors files. The enum names are exactly the
/// <c>dtype</c> strings of the file format. Other dtypes of the format (BOOL, U8, I8, F8_*…) are refused when a
/// file is opened.
/// </summary>
public enum SafeTensorsDType
{
    F32,
    F16,
    BF16,
    F64,
    I32,
    I64,
}

/// <summary>Sizes, kinds and file names of <see cref="SafeTensorsDType"/> values.</summary>
public static class SafeTensorsDTypeExtensions
{
    /// <summary>Bytes per element.</summary>
    public static int Size(this SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.F16 or SafeTensorsDType.BF16 => 2,
        SafeTensorsDType.F32 or SafeTensorsDType.I32 => 4,
        SafeTensorsDType.F64 or SafeTensorsDType.I64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>True for the floating-point types (F32, F16, BF16, F64); false for I32 and I64.</summary>
    public static bool IsFloat(this SafeTensorsDType dtype) => dtype is SafeTensorsDType.F32 or SafeTensorsDType.F16
        or SafeTensorsDType.BF16 or SafeTensorsDType.F64;

    /// <summary>
    /// Parses a header's <c>dtype</c> string. Only the exact upper-case names are accepted (no numbers, no other
    /// casing), unlike <see cref="Enum.TryParse{TEnum}(string?, out TEnum)"/>.
    /// </summary>
    public static bool TryParse(string name, out SafeTensorsDType dtype)
    {
        (var known, dtype) = name switch
        {
            "F32" => (true, SafeTensorsDType.F32),
            "F16" => (true, SafeTensorsDType.F16),
            "BF16" => (true, SafeTensorsDType.BF16),
            "F64" => (true, SafeTensorsDType.F64),
            "I32" => (true, SafeTensorsDType.I32),
            "I64" => (true, SafeTensorsDType.I64),
            _ => (false, default),
        };
        return known;
    }
}
