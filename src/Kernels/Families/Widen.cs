using Half = ILGPU.Half;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Widens a stored element to fp32 inside a kernel. Kernels that read F32-or-F16 weights take the element type and
/// one of these structs as generic parameters, so one kernel body serves both storage types (ILGPU resolves the
/// constrained interface call at compile time).
/// </summary>
internal interface IWiden<T> where T : unmanaged
{
    float Widen(T value);
}

/// <summary>F32 storage: the identity.</summary>
internal readonly struct F32Widen : IWiden<float>
{
    public float Widen(float value) => value;
}

/// <summary>F16 storage: exact widening to fp32.</summary>
internal readonly struct F16Widen : IWiden<Half>
{
    public float Widen(Half value) => (float)value;
}
