using IlgpuDiffusion.CLora.Interop;
using IlgpuDiffusion.Model.Configs;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.CLora.Interop;

/// <summary>The module index of the tiny fixture model (diffusers and LDM names), and random LoRA factors to write with.</summary>
internal static class TinyModules
{
    /// <summary>A [32, 32] cross-attention key projection.</summary>
    public const string ToK = "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k";

    /// <summary>A [64, 32] cross-attention value projection.</summary>
    public const string MidToV = "mid_block.attentions.0.transformer_blocks.0.attn2.to_v";

    /// <summary>A [32, 32] text-encoder projection.</summary>
    public const string TextQ = "text_model.encoder.layers.0.self_attn.q_proj";

    private static readonly Lazy<LoraModuleIndex> index = new(() => new LoraModuleIndex(
        Shapes(Fixtures.Path("tiny-sd", "unet", "diffusion_pytorch_model.safetensors")),
        Shapes(Fixtures.Path("tiny-sd", "text_encoder", "model.safetensors")),
        UNetConfig.Load(Fixtures.Path("tiny-sd", "unet", "config.json"))));

    public static LoraModuleIndex Modules => index.Value;

    /// <summary>Tensor name → shape of a safetensors file.</summary>
    public static Dictionary<string, IReadOnlyList<int>> Shapes(string path)
    {
        using var reader = SafeTensorsReader.Open(path);
        return reader.Tensors.ToDictionary(t => t.Name, t => t.Shape, StringComparer.Ordinal);
    }

    /// <summary>Standard-normal values filling <paramref name="shape"/>.</summary>
    public static float[] Random(int[] shape, int seed) => Reference.RandomNormal(shape.Aggregate(1, (p, d) => p * d), seed);

    /// <summary>Adds a down/up pair with random values to <paramref name="file"/>.</summary>
    public static SafeTensorsWriter AddPair(this SafeTensorsWriter file, string downKey, int[] downShape, string upKey, int[] upShape, int seed) =>
        file.Add(downKey, Random(downShape, seed), downShape).Add(upKey, Random(upShape, seed + 1), upShape);

    /// <summary>A kohya down/up pair <c>{stem}.lora_down.weight</c>, <c>{stem}.lora_up.weight</c>.</summary>
    public static SafeTensorsWriter AddKohya(this SafeTensorsWriter file, string stem, int[] downShape, int[] upShape, int seed) =>
        file.AddPair($"{stem}.lora_down.weight", downShape, $"{stem}.lora_up.weight", upShape, seed);

    /// <summary>ΔW = scale · up · down in float64 with explicit [out, r] × [r, in] indexing.</summary>
    public static double[] Product(ReadOnlySpan<float> up, ReadOnlySpan<float> down, int outFeatures, int rank, double scale)
    {
        int inFeatures = down.Length / rank;
        var result = new double[outFeatures * inFeatures];
        for (int o = 0; o < outFeatures; o++)
            for (int i = 0; i < inFeatures; i++)
            {
                double sum = 0;
                for (int r = 0; r < rank; r++) sum += (double)up[o * rank + r] * down[r * inFeatures + i];
                result[o * inFeatures + i] = scale * sum;
            }
        return result;
    }
}
