using ILGPU.Runtime.Cuda;

namespace IlgpuDiffusion.Kernels;

/// <summary>A GPU architecture the PTX check compiles and assembles for: <c>sm_80</c> (A100) or <c>sm_90</c> (H100).</summary>
public sealed record PtxArchitecture
{
    private PtxArchitecture(string name, CudaArchitecture cuda) => (Name, Cuda) = (name, cuda);

    /// <summary>Ampere (A100, and the baseline the driver JITs up from).</summary>
    public static PtxArchitecture Sm80 { get; } = new("sm_80", CudaArchitecture.SM_80);

    /// <summary>Hopper (H100).</summary>
    public static PtxArchitecture Sm90 { get; } = new("sm_90", CudaArchitecture.SM_90);

    /// <summary>Every supported architecture.</summary>
    public static IReadOnlyList<PtxArchitecture> All { get; } = [Sm80, Sm90];

    /// <summary>The name PTX's <c>.target</c> and ptxas's <c>-arch</c> use, e.g. <c>sm_90</c>.</summary>
    public string Name { get; }

    /// <summary>ILGPU's value for it.</summary>
    public CudaArchitecture Cuda { get; }

    /// <summary>Parses <c>sm_80</c> or <c>sm_90</c> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static PtxArchitecture Parse(string name) =>
        All.FirstOrDefault(a => string.Equals(a.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException(
            $"unknown architecture '{name}': expected one of {string.Join(", ", All.Select(a => a.Name))}.", nameof(name));

    public override string ToString() => Name;
}
