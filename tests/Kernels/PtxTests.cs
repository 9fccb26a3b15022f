using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using IlgpuDiffusion.Kernels;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Kernels;

/// <summary>
/// The PTX check: every registered kernel compiles to PTX and NVIDIA's ptxas assembles it for sm_80 and sm_90. No GPU
/// is needed, but ptxas is: when it cannot be found these tests fail, they never skip.
/// </summary>
public sealed class PtxTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("sm_80")]
    [InlineData("sm_90")]
    public void Every_registered_kernel_compiles_and_assembles(string arch)
    {
        using var directory = new TempDirectory();
        var result = PtxValidation.Run(PtxArchitecture.Parse(arch), PtxasLocator.Locate(), directory.Path);
        output.WriteLine(PtxReport.Format(result));

        Assert.Equal(KernelRegistry.All.Select(k => k.Name), result.Kernels.Select(k => k.Name));
        Assert.True(result.Succeeded, string.Join("\n", result.Failures.Select(f => $"{f.Name}: {f.Failure}")));
        Assert.True(File.Exists(result.ReportPath));
    }

    [Theory]
    [InlineData("sm_80")]
    [InlineData("sm_90")]
    public void Ptx_declares_isa_7_8_and_the_requested_target(string arch)
    {
        using var compiler = new PtxCompiler(PtxArchitecture.Parse(arch));
        var ptx = compiler.Compile(KernelRegistry.All.First(k => k.Name == "Elementwise.FillKernel"));
        Assert.Contains(".version 7.8\n", ptx.ReplaceLineEndings("\n"));
        Assert.Contains($".target {arch}\n", ptx.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Specialized_values_are_compiled_in_as_constants()
    {
        var entries = KernelRegistry.Discover([typeof(SpecializedKernels)]);
        Assert.Equal(["SpecializedKernels.ScaleKernel_3", "SpecializedKernels.TileKernel_4", "SpecializedKernels.TileKernel_8"],
            entries.Select(e => e.Name));

        using var directory = new TempDirectory();
        var result = PtxValidation.Run(PtxArchitecture.Sm90, PtxasLocator.Locate(), directory.Path, entries);
        output.WriteLine(PtxReport.Format(result));
        Assert.True(result.Succeeded, string.Join("\n", result.Failures.Select(f => $"{f.Name}: {f.Failure}")));
        // A tile of t×t floats in shared memory: its size is only known once t is a constant.
        Assert.Equal(4 * 4 * sizeof(float), result.Kernels[1].Resources!.SharedMemoryBytes);
        Assert.Equal(8 * 8 * sizeof(float), result.Kernels[2].Resources!.SharedMemoryBytes);
        // ScaleKernel's loop bound is the immediate 3, not the (still declared, unread) parameter.
        var scale = File.ReadAllText(Path.Combine(directory.Path, "SpecializedKernels.ScaleKernel_3.ptx"));
        Assert.Matches(@"setp\.\w+\.s32\s+%p\d+, %r\d+, 3;", scale);
    }

    [Fact]
    public void Specialize_values_that_do_not_fit_the_parameters_are_refused()
    {
        var wrongType = Assert.Throws<InvalidOperationException>(() => KernelRegistry.Discover([typeof(WrongSpecializeType)]));
        Assert.Contains("SpecializedValue<Int32>", wrongType.Message);
        var missing = Assert.Throws<InvalidOperationException>(() => KernelRegistry.Discover([typeof(MissingSpecialize)]));
        Assert.Contains("0 Specialize value(s)", missing.Message);
    }

    [Fact]
    public void Kernels_that_fail_to_compile_or_assemble_are_reported_not_thrown()
    {
        using var directory = new TempDirectory();
        var result = PtxValidation.Run(
            PtxArchitecture.Sm90, PtxasLocator.Locate(), directory.Path, KernelRegistry.Discover([typeof(BrokenKernels)]));
        var report = PtxReport.Format(result);
        output.WriteLine(report);

        Assert.False(result.Succeeded);
        Assert.Equal(["BrokenKernels.BadAsmKernel", "BrokenKernels.SharedImplicitKernel"], result.Failures.Select(f => f.Name));
        Assert.StartsWith("ptxas (exit code", result.Failures[0].Failure);
        Assert.StartsWith("ILGPU:", result.Failures[1].Failure);
        Assert.True(File.Exists(Path.Combine(directory.Path, "BrokenKernels.BadAsmKernel.ptx")));
        Assert.Contains("failures:", report);
        Assert.Equal(report, File.ReadAllText(result.ReportPath));
    }

    [Fact]
    public void A_ptxas_path_that_does_not_exist_is_an_error()
    {
        var e = Assert.Throws<FileNotFoundException>(() => PtxasLocator.Locate("/no/such/ptxas"));
        Assert.Contains("/no/such/ptxas", e.Message);
    }

    [Fact]
    public void Ptxas_verbose_output_is_parsed_per_entry()
    {
        const string verbose = """
            ptxas info    : 0 bytes gmem
            ptxas info    : Function properties for helper
                24 bytes stack frame, 8 bytes spill stores, 8 bytes spill loads
            ptxas info    : Compiling entry function 'Kernel_Tile' for 'sm_90'
            ptxas info    : Function properties for Kernel_Tile
                16 bytes stack frame, 4 bytes spill stores, 12 bytes spill loads
            ptxas info    : Used 40 registers, 1024 bytes smem, 392 bytes cmem[0]
            ptxas info    : Compiling entry function 'Kernel_Add' for 'sm_90'
            ptxas info    : Function properties for Kernel_Add
                0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
            ptxas info    : Used 10 registers, 392 bytes cmem[0]
            """;
        var entries = PtxasResources.Parse(verbose);
        Assert.Equal([("Kernel_Tile", new PtxasResources(40, 4, 12, 1024, 16)), ("Kernel_Add", new PtxasResources(10, 0, 0, 0, 0))], entries);
    }

    [Fact]
    public void Cli_ptx_writes_one_ptx_per_kernel_and_the_report()
    {
        using var directory = new TempDirectory();
        Assert.Equal(0, IlgpuDiffusion.Cli.Program.Main(["ptx", "--arch", "sm_90", "--out", directory.Path]));
        Assert.Contains("Elementwise.FillKernel", File.ReadAllText(Path.Combine(directory.Path, PtxValidationResult.ReportFileName)));
        Assert.Equal(KernelRegistry.All.Select(k => k.Name + ".ptx").Order(),
            Directory.GetFiles(directory.Path, "*.ptx").Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Cli_ptx_refuses_an_unknown_architecture()
    {
        using var directory = new TempDirectory();
        Assert.NotEqual(0, IlgpuDiffusion.Cli.Program.Main(["ptx", "--arch", "sm_70", "--out", directory.Path]));
        Assert.Empty(Directory.GetFiles(directory.Path));
        Assert.Throws<ArgumentException>(() => PtxArchitecture.Parse("sm_70"));
    }

    /// <summary>Kernels with SpecializedValue parameters, registered as the engine's are.</summary>
    private static class SpecializedKernels
    {
        [Kernel(Specialize = new object[] { 3 })]
        internal static void ScaleKernel(Index1D i, ArrayView<float> x, SpecializedValue<int> times)
        {
            float v = x[i];
            for (int k = 0; k < times.Value; k++) v *= 3f;
            x[i] = v;
        }

        [Kernel(ExplicitlyGrouped = true, Specialize = new object[] { 4 })]
        [Kernel(ExplicitlyGrouped = true, Specialize = new object[] { 8 })]
        internal static void TileKernel(ArrayView<float> x, SpecializedValue<int> tile)
        {
            var shared = SharedMemory.Allocate<float>(tile.Value * tile.Value);
            shared[Group.IdxX] = x[Grid.GlobalIndex.X];
            Group.Barrier();
            x[Grid.GlobalIndex.X] = shared[(Group.IdxX + 1) % (tile.Value * tile.Value)];
        }
    }

    /// <summary>One kernel ptxas refuses (an unknown instruction), one ILGPU refuses (shared memory without groups).</summary>
    private static class BrokenKernels
    {
        [Kernel]
        internal static void BadAsmKernel(Index1D i, ArrayView<float> x)
        {
            if (CudaAsm.IsSupported) CudaAsm.Emit("no.such.instruction;");
            x[i] = 1f;
        }

        [Kernel]
        internal static void SharedImplicitKernel(Index1D i, ArrayView<float> x)
        {
            var shared = SharedMemory.Allocate<float>(4);
            shared[0] = x[i];
            x[i] = shared[0];
        }
    }

    private static class WrongSpecializeType
    {
        [Kernel(Specialize = new object[] { 4L })]
        internal static void TileKernel(Index1D i, ArrayView<float> x, SpecializedValue<int> tile) => x[i] = tile.Value;
    }

    private static class MissingSpecialize
    {
        [Kernel]
        internal static void TileKernel(Index1D i, ArrayView<float> x, SpecializedValue<int> tile) => x[i] = tile.Value;
    }

    /// <summary>A fresh folder under the temp directory, deleted with its contents on dispose.</summary>
    private sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("idf-ptx-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
