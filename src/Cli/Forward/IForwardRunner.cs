using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Loading;

namespace IlgpuDiffusion.Cli.Forward;

/// <summary>
/// One network the <c>forward</c> command can run: it reads the tensors it takes from the input file (first, so a bad
/// input fails before any weight loads), builds the model from the checkpoint, completes that component's weights,
/// and returns its outputs in the file layout (NCHW images and latents, [N, L, C] tokens), F32 on the device.
/// Register an implementation in <see cref="ForwardRunners.All"/>.
/// </summary>
internal interface IForwardRunner
{
    /// <summary>The tensors it reads and writes, for <c>--help</c>.</summary>
    string Summary { get; }

    /// <summary>Runs the component (the command has switched gradients off); the caller owns the returned tensors.</summary>
    IReadOnlyDictionary<string, Tensor> Run(Checkpoint checkpoint, ForwardInputs inputs);
}
