using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Nn;
using IlgpuDiffusion.Model.UNet;

namespace IlgpuDiffusion.CLora.Library;

/// <summary>Brings a freshly loaded model to the state a concept library describes, before its next task is trained.</summary>
public static class LibraryState
{
    /// <summary>
    /// Adds every past concept's token with its stored row (frozen), folds each past task's factors into the UNet's
    /// layers in task order (W += up·down, fp32 weights only) and returns the past deltas P for C-LoRA's regulariser.
    /// </summary>
    /// <exception cref="InvalidOperationException">The library is kv-finetune, or an adapted layer has no F32 weight.</exception>
    public static PastDeltas Restore(ConceptLibrary library, UNet2DCondition unet, ConceptTokens tokens, Device device)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(unet);
        ArgumentNullException.ThrowIfNull(tokens);
        if (library.Settings.Method == LibraryMethod.KvFinetune)
            throw new InvalidOperationException($"library '{library.Folder}' is a kv-finetune library, which cannot be restored for training.");
        foreach (var concept in library.Concepts)
            tokens.Add(concept.Token, library.TokenRow(concept.Name));
        if (library.Settings.Method.StoresFactors() && library.Concepts.Count > 0)
        {
            var linears = unet.Descendants().OfType<LinearLayer>().ToDictionary(l => l.Name, StringComparer.Ordinal);
            for (int task = 0; task < library.Concepts.Count; task++)
                foreach (var layer in library.Layers)
                {
                    var weight = linears.TryGetValue(layer.Name, out var linear)
                        ? linear.Weight.Value
                        : throw new InvalidOperationException($"library '{library.Folder}' adapts {layer.Name}, which the UNet does not have.");
                    if (weight.DType != DType.F32)
                        throw new InvalidOperationException($"{layer.Name}: restoring a library needs F32 weights (--weights f32).");
                    var (down, downShape, up, upShape) = library.TaskFactors(task, layer.Name);
                    using var downTensor = Tensor.FromHost(device, down, downShape[0], downShape[1]);
                    using var upTensor = Tensor.FromHost(device, up, upShape[0], upShape[1]);
                    Gemm.MatMul(upTensor, downTensor, weight, beta: 1f);
                }
        }
        return PastDeltas.FromLibrary(library, device);
    }
}
