using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Nn;
using IlgpuDiffusion.Model.UNet;

namespace IlgpuDiffusion.CLora.Library;

/// <summary>Brings a freshly loaded model to the state a concept library describes, before its next task is trained.</summary>
public static class LibraryState
{
    /// <summary>
    /// Adds every past concept's token with its stored row (frozen), folds each past task's factors into the UNet's
    /// layers in task order (W += up·down, fp32 weights only) or, for kv-finetune, adds the accumulated dense delta
    /// (W += Δ), and returns the past deltas P for C-LoRA's regulariser (empty for kv-finetune and token-only).
    /// </summary>
    /// <exception cref="InvalidOperationException">An adapted layer is missing or has no F32 weight.</exception>
    public static PastDeltas Restore(ConceptLibrary library, UNet2DCondition unet, ConceptTokens tokens, Device device)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(unet);
        ArgumentNullException.ThrowIfNull(tokens);
        foreach (var concept in library.Concepts)
            tokens.Add(concept.Token, library.TokenRow(concept.Name));
        if (library.Settings.Method.StoresDeltas() && library.Concepts.Count > 0)
        {
            var linears = unet.Descendants().OfType<LinearLayer>().ToDictionary(l => l.Name, StringComparer.Ordinal);
            foreach (var layer in library.Layers)
            {
                var weight = linears.TryGetValue(layer.Name, out var linear)
                    ? linear.Weight.Value
                    : throw new InvalidOperationException($"library '{library.Folder}' adapts {layer.Name}, which the UNet does not have.");
                if (weight.DType != DType.F32)
                    throw new InvalidOperationException($"{layer.Name}: restoring a library needs F32 weights (--weights f32).");
                if (library.Settings.Method.StoresFactors()) FoldFactors(library, layer.Name, weight, device);
                else AddDense(library.AccumulatedDelta(layer.Name), weight);
            }
        }
        return library.Settings.Method.StoresFactors() ? PastDeltas.FromLibrary(library, device) : new PastDeltas();
    }

    /// <summary>W += up·down of every task, in task order, on the device.</summary>
    private static void FoldFactors(ConceptLibrary library, string layer, Tensor weight, Device device)
    {
        for (int task = 0; task < library.Concepts.Count; task++)
        {
            var (down, downShape, up, upShape) = library.TaskFactors(task, layer);
            using var downTensor = Tensor.FromHost(device, down, downShape[0], downShape[1]);
            using var upTensor = Tensor.FromHost(device, up, upShape[0], upShape[1]);
            Gemm.MatMul(upTensor, downTensor, weight, beta: 1f);
        }
    }

    /// <summary>W += Δ (fp32, on the host).</summary>
    private static void AddDense(float[] delta, Tensor weight)
    {
        var values = weight.ToFloatArray();
        for (int i = 0; i < values.Length; i++) values[i] += delta[i];
        weight.CopyFromHost(values);
    }
}
