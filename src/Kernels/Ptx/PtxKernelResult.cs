namespace IlgpuDiffusion.Kernels;

/// <summary>How one kernel instantiation fared in the PTX check.</summary>
/// <param name="Name">The registry name (<see cref="KernelEntry.Name"/>); its PTX is <c>Name.ptx</c>.</param>
/// <param name="Resources">ptxas's resource report; null when the kernel failed.</param>
/// <param name="Failure">Why it failed (ILGPU's or ptxas's message, prefixed with the stage); null when it assembled.</param>
/// <param name="Warnings">ptxas's warnings for it.</param>
public sealed record PtxKernelResult(string Name, PtxasResources? Resources, string? Failure, IReadOnlyList<string> Warnings)
{
    /// <summary>True when the kernel compiled to PTX and ptxas assembled it.</summary>
    public bool Succeeded => Failure is null;
}

/// <summary>The PTX check of every kernel for one architecture.</summary>
/// <param name="Architecture">The architecture compiled and assembled for.</param>
/// <param name="PtxasVersion">ptxas's version line.</param>
/// <param name="Kernels">One result per kernel instantiation, in registry order.</param>
/// <param name="OutputDirectory">Where the <c>.ptx</c> files and <c>report.txt</c> were written.</param>
public sealed record PtxValidationResult(
    PtxArchitecture Architecture, string PtxasVersion, IReadOnlyList<PtxKernelResult> Kernels, string OutputDirectory)
{
    /// <summary>The file name of the report inside <see cref="OutputDirectory"/>.</summary>
    public const string ReportFileName = "report.txt";

    /// <summary>True when every kernel compiled and assembled.</summary>
    public bool Succeeded => Kernels.All(k => k.Succeeded);

    /// <summary>The kernels that failed.</summary>
    public IReadOnlyList<PtxKernelResult> Failures => Kernels.Where(k => !k.Succeeded).ToList();

    /// <summary>The full path of the report.</summary>
    public string ReportPath => Path.Combine(OutputDirectory, ReportFileName);
}
