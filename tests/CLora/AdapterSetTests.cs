using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.CLora;
using IlgpuDiffusion.CLora.Library;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Tests.Support;
using Xunit.Abstractions;

namespace IlgpuDiffusion.Tests.CLora;

/// <summary>Attaching, folding and detaching the adapters of a task on the tiny UNet, and accumulating past deltas.</summary>
public sealed class AdapterSetTests(ITestOutputHelper output)
{
    private readonly Device device = Devices.Portable;

    [Fact]
    public void Attaches_fresh_deterministic_adapters_to_the_32_cross_attention_kv_layers()
    {
        using var model = new TinySd();
        using var first = AdapterSet.Attach(model.UNet, new AdapterOptions { Seed = 7 });
        Assert.Equal(32, first.Layers.Count);
        Assert.All(first.Layers, l => Assert.Matches(@"attn2\.to_[kv]$", l.Name));
        Assert.All(first.Layers, l => Assert.Same(l.Adapter, model.UNet.FindLinear(l.Name).Adapter));
        Assert.Equal(first.Layers.Sum(l => 16L * (l.Layer.InFeatures + l.Layer.OutFeatures)), first.TrainableParameterCount);
        Assert.Equal(first.Layers.Sum(l => (long)l.Layer.InFeatures * l.Layer.OutFeatures), first.StoredParameterCount);
        Assert.Equal(64, first.NamedParameters().Count());
        Assert.Throws<ArgumentException>(() => AdapterSet.Attach(model.UNet, new AdapterOptions()));

        var adapter = first.Layers[0].Adapter;
        Assert.Equal(16, adapter.Rank);
        Assert.All(adapter.Up.Value.ToFloatArray(), v => Assert.Equal(0f, v));
        var down = adapter.Down.Value.ToFloatArray();
        float bound = 1f / MathF.Sqrt(adapter.InFeatures); // Kaiming-uniform, a = √5
        Assert.All(down, v => Assert.InRange(v, -bound, bound));
        Assert.True(down.Max() > 0.8f * bound && down.Min() < -0.8f * bound, "down does not fill its range");
        Assert.NotEqual(down, first.Layers[1].Adapter.Down.Value.ToFloatArray()); // each layer its own stream
        first.Detach();
        Assert.Empty(first.Layers);
        Assert.Null(model.UNet.FindLinear("mid_block.attentions.0.transformer_blocks.0.attn2.to_k").Adapter);

        using var same = AdapterSet.Attach(model.UNet, new AdapterOptions { Seed = 7 });
        Assert.Equal(down, same.Layers[0].Adapter.Down.Value.ToFloatArray());
        same.Detach();
        using var other = AdapterSet.Attach(model.UNet, new AdapterOptions { Seed = 8, Rank = 16 });
        Assert.NotEqual(down, other.Layers[0].Adapter.Down.Value.ToFloatArray());
        other.Detach();
        using var selfAttention = AdapterSet.Attach(model.UNet, new AdapterOptions { Rank = 2, TargetPattern = @"attn1\.to_q$" });
        Assert.Equal(16, selfAttention.Layers.Count);
    }

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.F16)]
    public void Folding_gives_the_adapted_output_and_removes_the_adapters(DType weights)
    {
        using var model = new TinySd(weights);
        using var sample = Var.Constant(Tensor.FromHost(device, Reference.RandomNormal(8 * 8 * 4, 410), 1, 8, 8, 4));
        using var context = Var.Constant(Tensor.FromHost(device, Reference.RandomNormal(8 * 32, 411), 1, 8, 32));
        using var timesteps = Tensor.FromHost(device, [500], 1);
        float[] Run()
        {
            using var _ = Grad.NoGrad();
            using var prediction = model.UNet.Forward(sample, timesteps, context);
            return prediction.Value.ToFloatArray();
        }

        var plain = Run();
        using var adapters = AdapterSet.Attach(model.UNet, new AdapterOptions { Rank = 4, Seed = 1 });
        int seed = 400;
        foreach (var (_, _, adapter) in adapters.Layers) // a trained-looking up factor, so ΔW ≠ 0
            adapter.Up.Value.CopyFromHost([.. Reference.RandomNormal(adapter.Up.Value.Count, seed++).Select(v => 0.3f * v)]);
        var adapted = Run();
        Assert.True(Reference.RelativeError(adapted, plain) > 1e-2, "the adapters do not change the output");
        adapters.Fold();
        var folded = Run();
        Assert.Empty(adapters.Layers);
        var key = model.UNet.FindLinear("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k");
        Assert.Null(key.Adapter);
        Assert.Equal(DType.F32, key.Weight.Value.DType); // an F16 weight is folded into an F32 copy
        double error = Reference.RelativeError(folded, adapted);
        output.WriteLine($"{weights} weights: folded vs adapter path, relative difference {error:E2}");
        Assert.True(error <= 1e-5, $"folded forward differs by {error:E2}");
    }

    [Fact]
    public void Past_deltas_accumulate_every_tasks_up_times_down_as_the_concept_library_does()
    {
        using var model = new TinySd();
        using var past = new PastDeltas();
        var folder = Directory.CreateTempSubdirectory("idf-clora-past-");
        var library = ConceptLibrary.Create(folder.FullName, LibraryTestData.BaseModel, LibraryTestData.Settings());
        var expected = new Dictionary<string, double[]>();
        int seed = 420;
        for (int task = 0; task < 2; task++)
        {
            using var adapters = AdapterSet.Attach(model.UNet, new AdapterOptions { Rank = 2, Seed = (ulong)task });
            Assert.All(past.MasksFor(adapters), m => Assert.Equal(task == 0, m is null));
            foreach (var (name, layer, adapter) in adapters.Layers)
            {
                var up = Reference.RandomNormal(adapter.Up.Value.Count, seed++);
                adapter.Up.Value.CopyFromHost(up);
                var down = adapter.Down.Value.ToFloatArray();
                var sum = expected.TryGetValue(name, out var before) ? before : new double[layer.OutFeatures * layer.InFeatures];
                for (int o = 0; o < layer.OutFeatures; o++)
                    for (int i = 0; i < layer.InFeatures; i++)
                        for (int k = 0; k < 2; k++)
                            sum[o * layer.InFeatures + i] += (double)up[o * 2 + k] * down[k * layer.InFeatures + i];
                expected[name] = sum;
            }
            past.Accumulate(adapters);
            library.AddTask(LibraryTestData.Record($"c{task}", 2), adapters.ReadFactors(), LibraryTestData.Values(new Random(task), 32));
            adapters.Fold();
        }

        Assert.Equal(expected.Keys.Order(), past.Layers.Order());
        double worst = expected.Max(e => Reference.RelativeError(past.Delta(e.Key)!.ToFloatArray(), e.Value));
        output.WriteLine($"P after two tasks vs float64: worst relative error {worst:E2}");
        Assert.True(worst <= 1e-6, $"P relative error {worst:E2}");
        using var reloaded = PastDeltas.FromLibrary(ConceptLibrary.Open(folder.FullName), device);
        foreach (var name in past.Layers)
        {
            var p = past.Delta(name)!.ToFloatArray();
            Assert.Equal(p.Select(v => v * v), past.Mask(name)!.ToFloatArray());
            Assert.Equal(library.AccumulatedDelta(name), p); // the same bits a resumed run reads back
            Assert.Equal(p, reloaded.Delta(name)!.ToFloatArray());
        }
        folder.Delete(recursive: true);
    }
}
