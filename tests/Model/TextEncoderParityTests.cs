using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Model.TextEncoder;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.Model;

/// <summary>The CLIP text encoder against transformers 4.30's CLIPTextModel on the tiny fixture (reference/text_encoder.safetensors).</summary>
public sealed class TextEncoderParityTests(ITestOutputHelper output) : IDisposable
{
    private readonly SafeTensorsReader reference = SafeTensorsReader.Open(Fixtures.Path("reference", "text_encoder.safetensors"));

    public void Dispose() => reference.Dispose();

    [Theory]
    [MemberData(nameof(TinyModel.Variants), MemberType = typeof(TinyModel))]
    public void Matches_transformers_for_three_prompts(TinyLayout layout, DType weights)
    {
        using var checkpoint = TinyModel.Open(layout, weights);
        using var encoder = new ClipTextEncoder(checkpoint.Config.TextEncoder, checkpoint.TextEncoder);
        checkpoint.TextEncoder.Complete();
        using var ids = reference.ReadTensor(Devices.Portable, "input_ids", DType.I32);
        using var _ = Grad.NoGrad();
        using var result = encoder.Encode(ids);

        Assert.Equal([3, 77, 32], result.LastHiddenState.Shape.ToArray());
        Assert.Equal([3, 32], result.PoolerOutput.Shape.ToArray());
        double hidden = Reference.RelativeError(result.LastHiddenState.Value.ToFloatArray(), reference.ReadF32("last_hidden_state"));
        double pooled = Reference.RelativeError(result.PoolerOutput.Value.ToFloatArray(), reference.ReadF32("pooler_output"));
        output.WriteLine($"{layout}, {weights} weights: last_hidden_state rel error {hidden:E2}, pooler_output {pooled:E2} (bound {TinyModel.Bound(weights):E0})");
        Assert.True(hidden <= TinyModel.Bound(weights), $"last_hidden_state rel error {hidden}");
        Assert.True(pooled <= TinyModel.Bound(weights), $"pooler_output rel error {pooled}");
    }

    [Fact]
    public void Clip_skip_2_is_the_penultimate_layer_through_the_final_layer_norm()
    {
        using var checkpoint = TinyModel.Open(TinyLayout.DiffusersFolder, DType.F32);
        var config = checkpoint.Config.TextEncoder;
        using var full = new ClipTextEncoder(config, checkpoint.TextEncoder);
        // The same weights with the last layer left out: its output is hidden_states[-2] → final_layer_norm by construction.
        using var truncated = new ClipTextEncoder(config with { NumHiddenLayers = config.NumHiddenLayers - 1 }, checkpoint.TextEncoder);
        checkpoint.TextEncoder.Complete();
        using var ids = reference.ReadTensor(Devices.Portable, "input_ids", DType.I32);
        using var _ = Grad.NoGrad();

        using var skipped = full.Encode(ids, clipSkip: 2);
        using var expected = truncated.Encode(ids);
        Assert.Equal(expected.LastHiddenState.Value.ToFloatArray(), skipped.LastHiddenState.Value.ToFloatArray());
        Assert.Equal(expected.PoolerOutput.Value.ToFloatArray(), skipped.PoolerOutput.Value.ToFloatArray());
        // …and it is not the normal output.
        double distance = Reference.RelativeError(skipped.LastHiddenState.Value.ToFloatArray(), reference.ReadF32("last_hidden_state"));
        output.WriteLine($"clip skip 2 vs clip skip 1: rel distance {distance:E2}");
        Assert.True(distance > 0.1, $"clip skip 2 is only {distance} away from the full output");
    }

    [Fact]
    public void Refuses_float_ids_too_many_tokens_and_an_out_of_range_clip_skip()
    {
        using var checkpoint = TinyModel.Open(TinyLayout.DiffusersFolder, DType.F32);
        using var encoder = new ClipTextEncoder(checkpoint.Config.TextEncoder, checkpoint.TextEncoder);
        var device = Devices.Portable;
        using var floats = Tensor.Zeros(device, DType.F32, 1, 77);
        using var tooLong = Tensor.Zeros(device, DType.I32, 1, 78);
        using var ids = Tensor.Zeros(device, DType.I32, 1, 77);
        Assert.Contains("expected I32", Assert.Throws<ArgumentException>(() => encoder.Encode(floats)).Message);
        Assert.Contains("77 positions", Assert.Throws<ArgumentException>(() => encoder.Encode(tooLong)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => encoder.Encode(ids, clipSkip: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => encoder.Encode(ids, clipSkip: 4));
    }
}
