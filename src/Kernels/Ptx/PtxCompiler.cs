using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// Compiles registered kernels to PTX text without a GPU, with ILGPU's <see cref="PTXBackend"/>: PTX ISA 7.8 (the
/// newest ptxas 11.8 reads) and <c>.target</c> set to the requested architecture. One instance holds one ILGPU
/// context and backend, reused for every kernel of a run; it is not thread-safe.
/// </summary>
/// <remarks>
/// The context is configured like <see cref="Device"/>'s CUDA context (O2, ILGPU.Algorithms), so the PTX is the
/// code a GPU would load. Kernels with <c>SpecializedValue&lt;T&gt;</c> parameters are compiled with the values
/// of their <see cref="KernelEntry.SpecializedValues"/> built in as constants, as ILGPU's launcher does at launch
/// (see <see cref="SpecializedKernel"/>).
/// </remarks>
public sealed class PtxCompiler : IDisposable
{
    /// <summary>The PTX ISA version written in <c>.version</c>.</summary>
    public const string IsaVersion = "7.8";

    private readonly Context context;
    private readonly PTXBackend backend;

    public PtxCompiler(PtxArchitecture architecture)
    {
        Architecture = architecture;
        context = Context.Create(b => b.Optimize(OptimizationLevel.O2).EnableAlgorithms());
        try
        {
            var capabilities = new CudaCapabilityContext(architecture.Cuda);
            ForceTargetArchitecture(capabilities, architecture.Cuda);
            backend = new PTXBackend(context, capabilities, architecture.Cuda, CudaInstructionSet.ISA_78, null);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>The architecture every kernel is compiled for.</summary>
    public PtxArchitecture Architecture { get; }

    /// <summary>The PTX module of one kernel instantiation.</summary>
    /// <exception cref="InvalidOperationException">The kernel's specialized values do not fit its parameters.</exception>
    /// <exception cref="ILGPU.InternalCompilerException">ILGPU cannot compile the kernel.</exception>
    public string Compile(KernelEntry entry)
    {
        var description = entry.ExplicitlyGrouped
            ? EntryPointDescription.FromExplicitlyGroupedKernel(entry.Method)
            : EntryPointDescription.FromImplicitlyGroupedKernel(entry.Method);
        var compiled = description.HasSpecializedParameters || entry.SpecializedValues.Count > 0
            ? SpecializedKernel.Compile(backend, description, entry)
            : backend.Compile(description, default(KernelSpecialization));
        return ((PTXCompiledKernel)compiled).PTXAssembly;
    }

    public void Dispose()
    {
        backend.Dispose();
        context.Dispose();
    }

    /// <summary>
    /// ILGPU 1.5.3 caps <c>.target</c> at sm_80 (<c>TargetArchitecture</c> has an internal setter), so sm_90-only
    /// PTX would be refused by ptxas; set it through reflection and check that it took.
    /// </summary>
    private static void ForceTargetArchitecture(CudaCapabilityContext capabilities, CudaArchitecture architecture)
    {
        var property = typeof(CudaCapabilityContext).GetProperty(
            nameof(CudaCapabilityContext.TargetArchitecture), BindingFlags.Instance | BindingFlags.Public);
        property?.SetValue(capabilities, architecture);
        if (capabilities.TargetArchitecture != architecture)
            throw new InvalidOperationException(
                $"could not set ILGPU's PTX target to {architecture}: CudaCapabilityContext.TargetArchitecture changed in this ILGPU version.");
    }
}
