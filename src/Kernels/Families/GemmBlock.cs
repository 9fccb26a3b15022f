using ILGPU;
using ILGPU.Runtime;

namespace IlgpuDiffusion.Kernels;

/// <summary>
/// The launch geometry of a block-tiled GEMM kernel: each group of <see cref="Threads"/> threads computes a
/// <see cref="Rows"/> × <see cref="Cols"/> block of C for one batch, staging operand tiles in
/// <see cref="SharedWords"/> 32-bit words of dynamic shared memory; the grid is (⌈N / Cols⌉, ⌈M / Rows⌉, batch).
/// </summary>
internal readonly record struct GemmBlock(int Rows, int Cols, int Threads, int SharedWords)
{
    /// <summary>Dynamic shared memory per group, in bytes.</summary>
    public int SharedBytes => SharedWords * sizeof(uint);

    /// <summary>The launch configuration for <paramref name="args"/>, or null when its grid or group exceeds the accelerator's limits.</summary>
    public KernelConfig? ConfigFor(Accelerator accelerator, GemmArgs args) => ConfigFor(accelerator, args.Batch, args.M, args.N);

    /// <summary>The launch configuration for a [<paramref name="batch"/>, <paramref name="m"/>, <paramref name="n"/>] product, or null when it does not fit.</summary>
    public KernelConfig? ConfigFor(Accelerator accelerator, int batch, int m, int n)
    {
        var grid = new Index3D(Blocks(n, Cols), Blocks(m, Rows), batch);
        var max = accelerator.MaxGridSize;
        if (Threads > accelerator.MaxNumThreadsPerGroup || grid.X > max.X || grid.Y > max.Y || grid.Z > max.Z) return null;
        return new KernelConfig(grid, new Index3D(Threads, 1, 1), new SharedMemoryConfig(SharedWords, sizeof(uint)));
    }

    /// <summary>The error of a launcher asked to run <paramref name="args"/> where <see cref="ConfigFor(Accelerator, GemmArgs)"/> said no.</summary>
    public InvalidOperationException DoesNotFit(string kernel, Device device, GemmArgs args) => DoesNotFit(kernel, device, args.Batch, args.M, args.N);

    /// <summary>The error of a launcher asked to run a [<paramref name="batch"/>, <paramref name="m"/>, <paramref name="n"/>] product that does not fit.</summary>
    public InvalidOperationException DoesNotFit(string kernel, Device device, int batch, int m, int n) =>
        new($"{kernel}: {this} does not fit {device} for a [{batch}, {m}, {n}] product.");

    private static int Blocks(int extent, int block) => (extent + block - 1) / block;
}
