using Half = ILGPU.Half;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Widens one stored element to fp32 inside a kernel. Kernels that read weights stored as F32 or F16 take the
/// element type and one of these structs as generic parameters, so a single kernel body serves both dtypes
/// (ILGPU inlines the call; <c>default(TWiden).ToFloat(x)</c> costs nothing).
/// </summary>
internal interface IWiden<T> where T : unmanaged
{
    float ToFloat(T value);
}

/// <summary>F32 storage: the identity.</summary>
internal readonly struct WidenF32 : IWiden<float>
{
    public float ToFloat(float value) => value;
}

/// <summary>F16 storage: the exact fp16 → fp32 conversion (<c>cvt.f32.f16</c> on CUDA).</summary>
internal readonly struct WidenF16 : IWiden<Half>
{
    public float ToFloat(Half value) => (float)value;
}
