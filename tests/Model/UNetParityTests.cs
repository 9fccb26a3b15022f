using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Loading;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Model.UNet;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Model;

/// <summary>
/// UNet2DCondition against diffusers 0.21.4 (reference/unet.safetensors) from both checkpoint layouts and both
/// weight dtypes, plus a latent size diffusers must upsample to explicitly, and gradients with and without
/// checkpointing. The CPU accelerator launches slowly, so each test runs the UNet only a few times.
/// </summary>
public class UNetParityTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.Portable;

    private static UNet2DCondition LoadUNet(TinyLayout layout = TinyLayout.DiffusersFolder, DType weights = DType.F32)
    {
        using var checkpoint = TinyModel.Open(layout, weights);
        return UNet2DCondition.Load(checkpoint);
    }

    private static readonly (string Name, string Timesteps, string Context, string Expected)[] Cases =
    [
        ("case 1, timesteps [999, 10]", "timesteps", "encoder_hidden_states", "noise_pred"),
        ("case 2, scalar timestep 500, text encoder states", "case2_timestep", "case2_encoder_hidden_states", "case2_noise_pred"),
    ];

    /// <summary>Runs one reference case (NCHW in the file, channels-last in the model) and returns ‖out − ref‖/‖ref‖.</summary>
    private double CaseError(UNet2DCondition unet, (string Name, string Timesteps, string Context, string Expected) c)
    {
        using var reference = SafeTensorsReader.Open(Fixtures.Path("reference", "unet.safetensors"));
        using var sampleNchw = reference.ReadTensor(device, "sample");
        using var sample = Var.Constant(Layout.NchwToNhwc(sampleNchw));
        using var timesteps = reference.ReadTensor(device, c.Timesteps);
        using var context = Var.Constant(reference.ReadTensor(device, c.Context));
        using var _ = Grad.NoGrad();
        using var prediction = unet.Forward(sample, timesteps, context);
        using var nchw = Layout.NhwcToNchw(prediction.Value);
        return Reference.RelativeError(nchw.ToFloatArray(), reference.ReadF32(c.Expected));
    }

    [Theory]
    [MemberData(nameof(TinyModel.Variants), MemberType = typeof(TinyModel))]
    public void Matches_diffusers_noise_prediction(TinyLayout layout, DType weights)
    {
        double tolerance = TinyModel.Bound(weights);
        using var unet = LoadUNet(layout, weights);
        foreach (var c in Cases)
        {
            double error = CaseError(unet, c);
            output.WriteLine($"{layout} {weights} {c.Name}: relative error {error:E2} (bound {tolerance:E0})");
            Assert.True(error <= tolerance, $"{layout} {weights} {c.Name}: relative error {error:E2} > {tolerance:E0}");
        }
    }

    [Fact]
    public void Linear_projections_give_the_1x1_conv_result()
    {
        // The same model with use_linear_projection: proj_in/proj_out stored as [C, C] linears instead of [C, C, 1, 1] convs.
        var folder = Directory.CreateTempSubdirectory("idf-unet-linear-");
        try
        {
            foreach (var component in new[] { "vae", "text_encoder", "tokenizer", "scheduler" })
                Directory.CreateSymbolicLink(Path.Combine(folder.FullName, component), Path.Combine(TinyModel.Folder, component));
            var unetFolder = Directory.CreateDirectory(Path.Combine(folder.FullName, "unet")).FullName;
            var config = File.ReadAllText(Path.Combine(TinyModel.Folder, "unet", "config.json"));
            Assert.Contains("\"use_linear_projection\": false", config);
            File.WriteAllText(Path.Combine(unetFolder, "config.json"), config.Replace("\"use_linear_projection\": false", "\"use_linear_projection\": true"));
            using (var original = SafeTensorsReader.Open(Path.Combine(TinyModel.Folder, "unet", "diffusion_pytorch_model.safetensors")))
            {
                var writer = new SafeTensorsWriter();
                foreach (var info in original.Tensors)
                {
                    bool projection = info.Name.EndsWith(".proj_in.weight") || info.Name.EndsWith(".proj_out.weight");
                    writer.Add(info.Name, original.ReadF32(info.Name), projection ? [info.Shape[0], info.Shape[1]] : [.. info.Shape]);
                }
                writer.Save(Path.Combine(unetFolder, "diffusion_pytorch_model.safetensors"));
            }
            using var checkpoint = CheckpointLoader.Open(new ModelSource(folder.FullName), device);
            Assert.True(checkpoint.Config.UNet.UseLinearProjection);
            using var unet = UNet2DCondition.Load(checkpoint);
            double error = CaseError(unet, Cases[0]);
            output.WriteLine($"linear projections, {Cases[0].Name}: relative error {error:E2}");
            Assert.True(error <= 1e-4, $"relative error {error:E2}");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_non_square_latent_not_divisible_by_8_keeps_its_size()
    {
        // 6×10 latents go 6×10 → 3×5 → 2×3 → 1×2 and back: every upsampler resizes to its skip connection.
        using var unet = LoadUNet();
        using var sample = Var.Constant(Tensor.FromHost(device, Reference.RandomNormal(2 * 6 * 10 * 4, seed: 610), 2, 6, 10, 4));
        using var context = Var.Constant(Tensor.FromHost(device, Reference.RandomNormal(2 * 77 * 32, seed: 611), 2, 77, 32));
        using var intSteps = Tensor.FromHost(device, [700, 3], 2);
        using var floatSteps = Tensor.FromHost(device, [700f, 3f], 2);
        float[] Run(Tensor timesteps)
        {
            using var _ = Grad.NoGrad();
            using var prediction = unet.Forward(sample, timesteps, context);
            Assert.Equal(new Shape(2, 6, 10, 4), prediction.Shape);
            return prediction.Value.ToFloatArray();
        }

        long liveBefore = device.Memory.LiveBytes;
        var first = Run(intSteps);
        Assert.Equal(liveBefore, device.Memory.LiveBytes); // inference released every activation and skip connection
        // Integral F32 timesteps embed to the I32 bits, so the second run must repeat the first exactly.
        var second = Run(floatSteps);
        output.WriteLine($"6×10 latents: output range [{first.Min():F3}, {first.Max():F3}]");
        Assert.All(first, v => Assert.True(float.IsFinite(v)));
        Assert.Contains(first, v => v != 0f);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Cross_attention_key_and_value_weights_get_gradients_and_checkpointing_agrees()
    {
        using var unet = LoadUNet();
        var trained = unet.TransformerBlocks
            .SelectMany(b => new[] { b.CrossAttention.Key, b.CrossAttention.Value })
            .Select(layer => (layer.Name, Weight: layer.MakeWeightTrainable()))
            .ToList();
        Assert.Equal(32, trained.Count);
        Assert.Same(unet.FindLinear(trained[0].Name).Weight, trained[0].Weight);
        using var sample = Var.Constant(Tensor.FromHost(device, Reference.RandomNormal(4 * 4 * 4, seed: 620), 1, 4, 4, 4));
        using var context = Var.Constant(Tensor.FromHost(device, Reference.RandomNormal(8 * 32, seed: 621), 1, 8, 32));
        using var target = Var.Constant(Tensor.FromHost(device, Reference.RandomNormal(4 * 4 * 4, seed: 622), 1, 4, 4, 4));
        using var timesteps = Tensor.FromHost(device, [500], 1);
        (float Loss, float[][] Grads) Step(bool checkpointed)
        {
            unet.GradientCheckpointing = checkpointed;
            foreach (var (_, weight) in trained) weight.ZeroGrad();
            using var tape = Tape.Record();
            using var prediction = unet.Forward(sample, timesteps, context);
            using var loss = Ops.Mse(prediction, target);
            tape.Backward(loss);
            return (loss.Value.ToFloatArray()[0], [.. trained.Select(t => t.Weight.Grad!.ToFloatArray())]);
        }

        var plain = Step(checkpointed: false);
        var checkpointed = Step(checkpointed: true);
        Assert.Equal(plain.Loss, checkpointed.Loss);
        double worst = 0;
        for (int i = 0; i < trained.Count; i++)
        {
            Assert.True(Array.Exists(plain.Grads[i], v => v != 0f), $"{trained[i].Name}: zero gradient");
            Assert.All(plain.Grads[i], v => Assert.True(float.IsFinite(v)));
            worst = Math.Max(worst, Reference.RelativeError(checkpointed.Grads[i], plain.Grads[i]));
        }
        output.WriteLine($"loss {plain.Loss:F6}; checkpointed vs plain gradients: worst relative difference {worst:E2} over {trained.Count} layers");
        Assert.True(worst <= 1e-5, $"checkpointed gradients differ by {worst:E2}");
    }
}
