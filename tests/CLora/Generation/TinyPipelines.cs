using IlgpuDiffusion.CLora.Interop;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.Nn;
using IlgpuDiffusion.Model.Pipelines;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.CLora.Generation;

/// <summary>
/// Fresh tiny fixture pipelines (customizing one changes its weights for good, so the shared one is never used) and
/// readers of their weights and of the fixture's original weights, both in PyTorch's layout.
/// </summary>
internal static class TinyPipelines
{
    public static StableDiffusionPipeline Load(DType weights = DType.F32) =>
        StableDiffusionPipeline.Load(new ModelSource(TinyModel.Folder) { Weights = weights }, Devices.Portable);

    /// <summary>The fixture file's weight of <paramref name="module"/> ([out, in] or [Cout, Cin, kh, kw]), as stored.</summary>
    public static float[] FixtureWeight(LoraComponent component, string module)
    {
        var file = component == LoraComponent.UNet
            ? Fixtures.Path("tiny-sd", "unet", "diffusion_pytorch_model.safetensors")
            : Fixtures.Path("tiny-sd", "text_encoder", "model.safetensors");
        using var reader = SafeTensorsReader.Open(file);
        return reader.ReadF32(module + ".weight");
    }

    /// <summary>The pipeline's current weight of <paramref name="module"/>, unpacked from the engine's [Cout, kh, kw, Cin] for a convolution.</summary>
    public static float[] PipelineWeight(StableDiffusionPipeline pipeline, LoraComponent component, string module)
    {
        Module network = component == LoraComponent.UNet ? pipeline.UNet : pipeline.TextEncoder;
        foreach (var layer in network.Descendants())
        {
            if (layer is LinearLayer linear && linear.Name == module) return Floats(linear.Weight.Value);
            if (layer is Conv2dLayer conv && conv.Name == module)
            {
                var packed = Floats(conv.Weight.Value);
                var s = conv.Weight.Value.Shape;
                int outChannels = s[0], kh = s[1], kw = s[2], inChannels = s[3];
                var torch = new float[packed.Length];
                for (int o = 0; o < outChannels; o++)
                    for (int y = 0; y < kh; y++)
                        for (int x = 0; x < kw; x++)
                            for (int c = 0; c < inChannels; c++)
                                torch[((o * inChannels + c) * kh + y) * kw + x] = packed[((o * kh + y) * kw + x) * inChannels + c];
                return torch;
            }
        }
        throw new InvalidOperationException($"the pipeline has no layer {module}");
    }

    /// <summary>A weight's values as floats (F16 widened).</summary>
    public static float[] Floats(Tensor tensor) =>
        tensor.DType == DType.F16 ? [.. tensor.ToHalfArray().Select(h => (float)h)] : tensor.ToFloatArray();
}
