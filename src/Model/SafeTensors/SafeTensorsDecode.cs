using System.Buffers.Binary;

namespace IlgpuDiffusion.Model.SafeTensors;

/// <summary>
/// Converts a tensor's little-endian file bytes to host values. Widening is exact (F16 and BF16 to F32: BF16 is
/// the top half of an F32); narrowing rounds to nearest even once (F64 to F32; F32, BF16 and F64 to F16), and a
/// value beyond the target's range becomes infinity, as in IEEE 754. Integers narrow only when the value fits.
/// </summary>
internal static class SafeTensorsDecode
{
    public static void ToF32(SafeTensorsDType source, ReadOnlySpan<byte> bytes, Span<float> destination)
    {
        switch (source)
        {
            case SafeTensorsDType.F32:
                for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
                break;
            case SafeTensorsDType.F16:
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(2 * i)..]);
                break;
            case SafeTensorsDType.BF16:
                for (int i = 0; i < destination.Length; i++) destination[i] = BF16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]));
                break;
            case SafeTensorsDType.F64:
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * i)..]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(source), source, "not a float dtype");
        }
    }

    public static void ToF16(SafeTensorsDType source, ReadOnlySpan<byte> bytes, Span<Half> destination)
    {
        switch (source)
        {
            case SafeTensorsDType.F32:
                for (int i = 0; i < destination.Length; i++) destination[i] = (Half)BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
                break;
            case SafeTensorsDType.F16:
                for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadHalfLittleEndian(bytes[(2 * i)..]);
                break;
            case SafeTensorsDType.BF16:
                // BF16 → F32 is exact, so this rounds once.
                for (int i = 0; i < destination.Length; i++) destination[i] = (Half)BF16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]));
                break;
            case SafeTensorsDType.F64:
                // Straight from double: going through float could round twice.
                for (int i = 0; i < destination.Length; i++) destination[i] = (Half)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * i)..]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(source), source, "not a float dtype");
        }
    }

    /// <summary>Converts I32 or I64 elements; throws <see cref="OverflowException"/> naming the first I64 value outside the int range.</summary>
    public static void ToI32(SafeTensorsDType source, ReadOnlySpan<byte> bytes, Span<int> destination)
    {
        switch (source)
        {
            case SafeTensorsDType.I32:
                for (int i = 0; i < destination.Length; i++) destination[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * i)..]);
                break;
            case SafeTensorsDType.I64:
                for (int i = 0; i < destination.Length; i++) destination[i] = NarrowToInt(BinaryPrimitives.ReadInt64LittleEndian(bytes[(8 * i)..]), i);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(source), source, "not an integer dtype");
        }
    }

    /// <summary>A BF16 value is the upper 16 bits of the F32 with the same value.</summary>
    public static float BF16ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    private static int NarrowToInt(long value, int index) => value is >= int.MinValue and <= int.MaxValue
        ? (int)value
        : throw new OverflowException($"element {index} is {value}, outside the I32 range [{int.MinValue}, {int.MaxValue}]");
}
