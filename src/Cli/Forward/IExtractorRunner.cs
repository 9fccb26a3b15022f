using IlgpuDiffusion.Kernels;

namespace IlgpuDiffusion.Cli.Forward;

/// <summary>
/// A feature extractor the <c>forward</c> command can run: like <see cref="IForwardRunner"/>, but its model is a
/// Hugging Face CLIP or ViT folder (<c>--model</c>) instead of a Stable Diffusion checkpoint. It reads its inputs
/// first, then loads the model, and returns its outputs named as reference/eval.safetensors names them.
/// Register an implementation in <see cref="ForwardRunners.Extractors"/>.
/// </summary>
internal interface IExtractorRunner
{
    /// <summary>The tensors it reads and writes, for <c>--help</c>.</summary>
    string Summary { get; }

    /// <summary>Runs the extractor of <paramref name="folder"/>; the caller owns the returned tensors.</summary>
    IReadOnlyDictionary<string, Tensor> Run(string folder, Device device, ForwardInputs inputs);
}
