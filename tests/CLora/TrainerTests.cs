using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.CLora;
using IlgpuDiffusion.CLora.Training;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Nn;
using IlgpuDiffusion.Tests.Support;

namespace IlgpuDiffusion.Tests.CLora;

/// <summary>The trainer on the tiny fixture model: 64 px images (8×8 latents), a few steps each.</summary>
public sealed class TrainerTests
{
    private static readonly TrainerOptions Tiny = new() { Resolution = 64, Steps = 3, Rank = 2, Seed = 11 };

    [Fact]
    public void Loss_on_a_fixed_batch_drops_and_the_regularizer_is_zero_on_task_one()
    {
        // lr 5e-2 / token lr 1e-1 (500× and 20× the defaults) and rank 4, so that 10 steps move the tiny model measurably.
        var options = Tiny with { Steps = 10, Rank = 4, LearningRate = 5e-2f, TokenLearningRate = 1e-1f };
        using var model = new TrainerModel();
        var data = Dataset(model, options, images: 1);
        var batch = new FixedBatch(model, data);
        float before = FixedMse(model, batch);
        var regs = new List<float>();
        var task = Trainer(model).Train(batch, options, new InMemoryTaskSink(), new TrainingRun { Progress = p => regs.Add(p.Regularizer) });
        float after = FixedMse(model, batch);
        Assert.True(after <= 0.7f * before, $"fixed-batch MSE {before} → {after}, expected a drop of at least 30%");
        Assert.Equal(10, regs.Count);
        Assert.All(regs, r => Assert.Equal(0f, r));
        Assert.NotEmpty(task.Factors);
        Assert.Null(model.Tokens.Training);
        Assert.All(model.UNet.Descendants().OfType<LinearLayer>(), l => Assert.Null(l.Adapter));
    }

    [Fact]
    public void A_resumed_run_equals_an_uninterrupted_one_and_the_same_seed_gives_the_same_factors()
    {
        var options = Tiny with { Steps = 4, CheckpointEvery = 2, GradientAccumulation = 2, NoiseOffset = 0.1f, MinSnrGamma = 5f };
        string folder = Directory.CreateTempSubdirectory("clora-ckpt-").FullName;
        var whole = Run(options, new TrainingRun());
        var again = Run(options, new TrainingRun());
        AssertSameTask(whole, again);

        using var cancel = new CancellationTokenSource();
        var interrupted = new TrainingRun
        {
            CheckpointPath = step => Path.Combine(folder, $"step-{step}.safetensors"),
            Cancellation = cancel.Token,
            Progress = p => { if (p.Step == 3) cancel.Cancel(); },
        };
        Assert.Throws<OperationCanceledException>(() => Run(options, interrupted));
        Assert.True(File.Exists(Path.Combine(folder, "step-2.safetensors")));
        var resumed = Run(options, new TrainingRun { ResumeFrom = Path.Combine(folder, "step-2.safetensors") });
        AssertSameTask(whole, resumed);
    }

    [Fact]
    public void Token_only_trains_the_token_row_alone()
    {
        using var model = new TrainerModel();
        var before = LinearWeights(model);
        float[] row = model.Tokens.ReadRow(model.Token);
        var task = Trainer(model).Train(Batches(model, Tiny), Tiny with { Method = TrainingMethod.TokenOnly }, new InMemoryTaskSink());
        Assert.Empty(task.Factors);
        Assert.NotEqual(row, task.TokenRow);
        Assert.Equal(task.TokenRow, model.Tokens.ReadRow(model.Token));
        Assert.All(LinearWeights(model), w => Assert.Equal(before[w.Key], w.Value));
    }

    [Fact]
    public void Kv_finetune_changes_only_the_cross_attention_key_and_value_weights()
    {
        using var model = new TrainerModel();
        var before = LinearWeights(model);
        var task = Trainer(model).Train(Batches(model, Tiny), Tiny with { Method = TrainingMethod.KvFinetune }, new InMemoryTaskSink());
        Assert.Empty(task.Factors);
        var after = LinearWeights(model);
        var changed = after.Where(w => !w.Value.SequenceEqual(before[w.Key])).Select(w => w.Key).Order().ToList();
        var kv = after.Keys.Where(k => k.Contains("attn2.to_k") || k.Contains("attn2.to_v")).Order().ToList();
        Assert.NotEmpty(kv);
        Assert.Equal(kv, changed);
    }

    [Fact]
    public void An_empty_folder_is_refused_clearly()
    {
        using var model = new TrainerModel();
        string empty = Directory.CreateTempSubdirectory("clora-empty-").FullName;
        var e = Assert.Throws<ArgumentException>(() => ConceptDataset.Load(empty, TrainerModel.TokenText, model.Tokenizer, model.Vae, Devices.Portable, Tiny));
        Assert.Contains("holds no image", e.Message);
    }

    private static TrainedTask Run(TrainerOptions options, TrainingRun run)
    {
        using var model = new TrainerModel();
        return Trainer(model).Train(Batches(model, options), options, new InMemoryTaskSink(), run);
    }

    private static void AssertSameTask(TrainedTask expected, TrainedTask actual)
    {
        Assert.Equal(expected.TokenRow, actual.TokenRow);
        Assert.Equal(expected.Factors.Count, actual.Factors.Count);
        foreach (var (e, a) in expected.Factors.Zip(actual.Factors))
        {
            Assert.Equal(e.Layer, a.Layer);
            Assert.Equal(e.Down, a.Down);
            Assert.Equal(e.Up, a.Up);
        }
    }

    private static CLoraTrainer Trainer(TrainerModel m) => new(m.UNet, m.TextEncoder, m.Tokens, m.Past, m.Schedule);

    private static ConceptDataset Dataset(TrainerModel m, TrainerOptions options, int images = 2) =>
        ConceptDataset.Load(TrainerModel.ImageFolder(images), TrainerModel.TokenText, m.Tokenizer, m.Vae, Devices.Portable, options);

    private static IBatchSource Batches(TrainerModel m, TrainerOptions options) =>
        Dataset(m, options).Batches(Devices.Portable, options, m.Schedule.TrainTimesteps);

    private static Dictionary<string, float[]> LinearWeights(TrainerModel m) =>
        m.UNet.Descendants().OfType<LinearLayer>().ToDictionary(l => l.Name, l => l.Weight.Value.ToFloatArray());

    /// <summary>The ε-prediction MSE of the fixed batch (no adapters attached: before training, or after folding).</summary>
    private static float FixedMse(TrainerModel m, FixedBatch source)
    {
        var batch = source.Next(0);
        using (Grad.NoGrad())
        using (batch.Latents)
        using (batch.Noise)
        using (batch.Timesteps)
        using (batch.InputIds)
        using (var terms = CLoraLoss.Compute(m.UNet, m.TextEncoder, null, m.Past, m.Schedule, batch, 0f))
            return terms.Read().Mse;
    }

    /// <summary>The same batch every draw: the first image and prompt, timesteps 300 and 700, fixed noise.</summary>
    private sealed class FixedBatch : IBatchSource
    {
        private readonly float[] latents, noise;
        private readonly int[] ids, shape;

        public FixedBatch(TrainerModel m, ConceptDataset data)
        {
            var example = data.Examples[0];
            latents = [.. example.Latents[0], .. example.Latents[0]];
            ids = [.. example.Prompts[0], .. example.Prompts[0]];
            shape = [2, data.LatentSize, data.LatentSize, data.LatentChannels];
            using var n = Tensor.Empty(Devices.Portable, DType.F32, shape);
            Philox.Normal(n, 5);
            noise = n.ToFloatArray();
        }

        public CLoraBatch Next(long draw) => new(
            Tensor.FromHost(Devices.Portable, latents, shape), Tensor.FromHost(Devices.Portable, noise, shape),
            Tensor.FromHost(Devices.Portable, [300, 700], 2), Tensor.FromHost(Devices.Portable, ids, 2, ids.Length / 2));
    }
}
