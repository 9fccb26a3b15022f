using System.Buffers.Binary;

namespace IlgpuDiffusion.Model.SafeTensors;

/// <summary>
/// Converts host values to a dtype's little-endian file bytes. Narrowing float conversions (F32 to F16 or BF16)
/// round to nearest even; NaN stays NaN.
/// </summary>
internal static class SafeTensorsEncode
{
    public static void Floats(SafeTensorsDType target, ReadOnlySpan<float> values, Span<byte> bytes)
    {
        switch (target)
        {
            case SafeTensorsDType.F32:
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes[(4 * i)..], values[i]);
                break;
            case SafeTensorsDType.F16:
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(bytes[(2 * i)..], (Half)values[i]);
                break;
            case SafeTensorsDType.BF16:
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes[(2 * i)..], SingleToBF16(values[i]));
                break;
            case SafeTensorsDType.F64:
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(bytes[(8 * i)..], values[i]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(target), target, "not a float dtype");
        }
    }

    public static void Halves(ReadOnlySpan<Half> values, Span<byte> bytes)
    {
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(bytes[(2 * i)..], values[i]);
    }

    public static void Doubles(ReadOnlySpan<double> values, Span<byte> bytes)
    {
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(bytes[(8 * i)..], values[i]);
    }

    public static void Ints(ReadOnlySpan<int> values, Span<byte> bytes)
    {
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(bytes[(4 * i)..], values[i]);
    }

    public static void Longs(ReadOnlySpan<long> values, Span<byte> bytes)
    {
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes[(8 * i)..], values[i]);
    }

    /// <summary>Rounds an F32 to the nearest BF16 (ties to even) and returns its bits.</summary>
    public static ushort SingleToBF16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040); // keep the sign, force a quiet-NaN mantissa bit
        uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }
}
