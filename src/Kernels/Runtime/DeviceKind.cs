namespace IlgpuDiffusion.Kernels;

/// <summary>The kind of accelerator a <see cref="Device"/> runs on.</summary>
public enum DeviceKind
{
    /// <summary>ILGPU's CPU accelerator: a correctness oracle for tiny models and tests, never a way to run SD1.5.</summary>
    Cpu,

    /// <summary>An NVIDIA GPU through ILGPU's CUDA backend.</summary>
    Cuda,
}
