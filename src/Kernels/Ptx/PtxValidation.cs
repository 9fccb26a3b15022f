namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The PTX check behind the <c>ptx</c> command and its test: compiles every kernel instantiation to PTX for one
/// architecture, assembles each with ptxas, and writes <c>Name.ptx</c> per kernel and <c>report.txt</c> into a
/// folder. A kernel that fails is recorded, never thrown, so one run lists every failure.
/// </summary>
public static class PtxValidation
{
    /// <summary>Checks <paramref name="kernels"/> (default: <see cref="KernelRegistry.All"/>).</summary>
    /// <param name="architecture">The architecture to compile and assemble for.</param>
    /// <param name="ptxasPath">The ptxas binary (see <see cref="PtxasLocator.Locate"/>).</param>
    /// <param name="outputDirectory">Created if missing; existing files of the same names are replaced.</param>
    /// <param name="kernels">The kernels to check.</param>
    public static PtxValidationResult Run(
        PtxArchitecture architecture, string ptxasPath, string outputDirectory, IEnumerable<KernelEntry>? kernels = null)
    {
        var entries = (kernels ?? KernelRegistry.All).ToList();
        var directory = Path.GetFullPath(outputDirectory);
        Directory.CreateDirectory(directory);
        var assembler = new PtxAssembler(ptxasPath, architecture);

        // ILGPU compiles one kernel at a time on one backend; the ptxas processes then run in parallel.
        var compiled = CompileAll(architecture, entries, directory);
        var results = new PtxKernelResult[entries.Count];
        Parallel.For(0, entries.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
            results[i] = compiled[i].Failure is { } failure
                ? new PtxKernelResult(entries[i].Name, null, failure, [])
                : Assemble(assembler, entries[i].Name, compiled[i].PtxFile!));

        var result = new PtxValidationResult(architecture, assembler.Version(), results, directory);
        WriteAtomically(result.ReportPath, PtxReport.Format(result));
        return result;
    }

    /// <summary>A kernel's PTX file, or why ILGPU could not compile it.</summary>
    private sealed record Compiled(string? PtxFile, string? Failure);

    private static Compiled[] CompileAll(PtxArchitecture architecture, IReadOnlyList<KernelEntry> entries, string directory)
    {
        using var compiler = new PtxCompiler(architecture);
        return entries.Select(entry =>
        {
            try
            {
                var file = Path.Combine(directory, entry.Name + ".ptx");
                WriteAtomically(file, compiler.Compile(entry));
                return new Compiled(file, null);
            }
            catch (Exception e)
            {
                // Whatever ILGPU throws for one kernel (InternalCompilerException, NotSupportedException, …) is that
                // kernel's failure; the run goes on so the report lists every failing kernel.
                return new Compiled(null, $"ILGPU: {Describe(e)}");
            }
        }).ToArray();
    }

    private static PtxKernelResult Assemble(PtxAssembler assembler, string name, string ptxFile)
    {
        var outcome = assembler.Assemble(ptxFile);
        string? failure = outcome.Succeeded ? null
            : outcome.ExitCode != 0 ? $"ptxas (exit code {outcome.ExitCode}): {outcome.Output}"
            : $"ptxas reported no resource usage for exactly one entry function: {outcome.Output}";
        return new PtxKernelResult(name, outcome.Succeeded ? outcome.Resources : null, failure, outcome.Warnings);
    }

    /// <summary>The exception's message followed by its inner exceptions' (ILGPU wraps the real cause).</summary>
    private static string Describe(Exception e)
    {
        var messages = new List<string>();
        for (Exception? current = e; current is not null; current = current.InnerException)
            messages.Add($"{current.GetType().Name}: {current.Message}");
        return string.Join(" ← ", messages);
    }

    private static void WriteAtomically(string path, string text)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }
}
