using System.Text.Json;
using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.CLora;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.SafeTensors;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.CLora;

/// <summary>
/// The autograd oracle (reference/lora_grad_f32.safetensors, diffusers 0.21.4 + transformers 4.30 in float64): one
/// C-LoRA step on the tiny model with a concept token (id 49408), rank-4 adapters on the 32 cross-attention K/V
/// layers and past deltas P. The loss terms and every gradient — of the MSE, of the regulariser and of the total,
/// for both factors of every layer and for the token's row — must agree to 1e-3 relative.
/// </summary>
public sealed class GradientParityTests(ITestOutputHelper output) : IDisposable
{
    private const double Bound = 1e-3;
    private const string Token = "<concept>";
    private readonly Device device = Devices.Portable;
    private readonly SafeTensorsReader reference = SafeTensorsReader.Open(Fixtures.Path("reference", "lora_grad_f32.safetensors"));
    private readonly List<(string Name, double Error)> errors = [];

    public void Dispose() => reference.Dispose();

    [Fact]
    public void Loss_terms_and_gradients_match_the_reference()
    {
        using var model = new TinySd();
        using var tokens = new ConceptTokens(model.Tokenizer, model.TextEncoder);
        var token = tokens.Add(Token, reference.ReadF32("token_embedding_row"), train: true);
        Assert.Equal(int.Parse(reference.Metadata["new_token_id"]), token.Id);
        // The fixture's prompts, "a photo of <49408> dog" and "<49408> on the beach, oil painting", with our token.
        var ids = reference.ReadI32("input_ids");
        Assert.Equal(ids[..77], model.Tokenizer.Encode($"a photo of {Token.ToUpperInvariant()} dog"));
        Assert.Equal(ids[77..], model.Tokenizer.Encode($"{Token} on the beach, oil painting"));

        using var adapters = AdapterSet.Attach(model.UNet, new AdapterOptions { Rank = int.Parse(reference.Metadata["rank"]) });
        var layers = JsonSerializer.Deserialize<string[]>(reference.Metadata["layers"])!;
        Assert.Equal(layers.Order(), adapters.Layers.Select(l => l.Name).Order());
        using var past = new PastDeltas();
        foreach (var (name, _, adapter) in adapters.Layers)
        {
            adapter.Down.Value.CopyFromHost(reference.ReadF32(name + ".lora_down"));
            adapter.Up.Value.CopyFromHost(reference.ReadF32(name + ".lora_up"));
            past.Set(name, reference.ReadTensor(device, name + ".past_delta"));
        }

        using var latents = ChannelsLast("x0");
        using var noise = ChannelsLast("noise");
        using var timesteps = reference.ReadTensor(device, "timesteps", DType.I32);
        using var inputIds = reference.ReadTensor(device, "input_ids", DType.I32);
        var batch = new CLoraBatch(latents, noise, timesteps, inputIds);
        float lambda = reference.ReadF32("lambda")[0];
        var parameters = adapters.NamedParameters().Append((Name: "token_embedding_row", Value: tokens.Rows!)).ToList();

        // The total loss, as a trainer runs it.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var total = Step(model, adapters, past, batch, lambda, parameters);
        output.WriteLine($"forward + backward: {clock.Elapsed.TotalSeconds:F1} s");
        Compare("loss_mse", [total.Mse]);
        Compare("reg", [total.Regularizer]);
        Compare("loss_total", [total.Total]);
        output.WriteLine($"ratio λ·reg/mse = {total.Ratio:F4}");
        CompareGradients("grad_total", parameters);

        // The MSE alone (λ = 0: the regulariser still runs, its gradient is scaled by 0).
        var mseOnly = Step(model, adapters, past, batch, 0f, parameters);
        Assert.Equal(total.Mse, mseOnly.Mse);
        CompareGradients("grad_loss", parameters);

        // The regulariser alone, λ = 1 (the fixture's grad_reg covers the factors only).
        foreach (var (_, v) in parameters) v.ZeroGrad();
        using (var tape = Tape.Record())
        using (var reg = CLoraOps.Regularizer(adapters, past, 1f))
            tape.Backward(reg);
        CompareGradients("grad_reg", parameters.SkipLast(1).ToList());

        // For scale: PyTorch's own float32 run of the same step, against its float64 run.
        output.WriteLine($"PyTorch f32 vs f64, grad_total.token_embedding_row: relative error " +
            $"{Reference.RelativeError(reference.ReadF32("f32run.grad_total.token_embedding_row"), reference.ReadF32("grad_total.token_embedding_row")):E2}");
        foreach (var (name, error) in errors.Where(e => e.Name.Contains("token") || !e.Name.Contains('.')))
            output.WriteLine($"{name}: relative error {error:E2}");
        foreach (var (name, error) in errors.OrderByDescending(e => e.Error).Take(8))
            output.WriteLine($"{name}: relative error {error:E2}");
        output.WriteLine($"{errors.Count} tensors compared; worst {errors.Max(e => e.Error):E2} (bound {Bound:E0})");
        Assert.All(errors, e => Assert.True(e.Error <= Bound, $"{e.Name}: relative error {e.Error:E2} > {Bound:E0}"));
    }

    private CLoraLossValues Step(TinySd model, AdapterSet adapters, PastDeltas past, CLoraBatch batch, float lambda,
        IReadOnlyList<(string Name, Var Value)> parameters)
    {
        foreach (var (_, v) in parameters) v.ZeroGrad();
        using var tape = Tape.Record();
        using var terms = CLoraLoss.Compute(model.UNet, model.TextEncoder, adapters, past, model.Schedule, batch, lambda);
        tape.Backward(terms.Total);
        return terms.Read();
    }

    private Tensor ChannelsLast(string name)
    {
        using var nchw = reference.ReadTensor(device, name);
        return Layout.NchwToNhwc(nchw);
    }

    private void Compare(string name, float[] actual) =>
        errors.Add((name, Reference.RelativeError(actual, reference.ReadF32(name))));

    private void CompareGradients(string prefix, IReadOnlyList<(string Name, Var Value)> parameters)
    {
        foreach (var (name, v) in parameters)
            Compare($"{prefix}.{name}", v.Grad!.ToFloatArray());
    }
}
