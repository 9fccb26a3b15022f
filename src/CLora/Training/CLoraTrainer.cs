using System.Text.RegularExpressions;
using IlgpuDiffusion.Autograd;
using IlgpuDiffusion.Kernels;
using IlgpuDiffusion.Model.Nn;
using IlgpuDiffusion.Model.Schedulers;
using IlgpuDiffusion.Model.TextEncoder;
using IlgpuDiffusion.Model.UNet;

namespace IlgpuDiffusion.CLora.Training;

/// <summary>
/// Trains one concept (a C-LoRA task, docs/clora-spec.md §11) on a loaded model. Per optimizer step: the micro-batches
/// of <see cref="IBatchSource"/> (seeded), the loss <see cref="CLoraLoss"/> (MSE + λ·L_forget) divided by the
/// accumulation count and back-propagated on a tape, global-norm clipping over every trainable tensor, then AdamW
/// with one setting for the adapter factors (or K/V weights) and one for the token row; only the current concept's
/// row is in the optimizer. Every step is deterministic for a seed, and a run resumed from a checkpoint continues
/// exactly as the uninterrupted one. End of task: the factors (or kv-finetune's dense K/V deltas) and the token row go
/// to the <see cref="ITaskSink"/>, the adapters are folded into the weights (W += up·down) and the token is frozen.
/// </summary>
/// <param name="unet">The UNet (K/V weights F32 for kv-finetune).</param>
/// <param name="textEncoder">The text encoder whose extra rows are <paramref name="tokens"/>'.</param>
/// <param name="tokens">The concept tokens; the concept's token must be the training one.</param>
/// <param name="past">The past deltas (empty on task 1).</param>
/// <param name="schedule">The training noise schedule.</param>
public sealed class CLoraTrainer(UNet2DCondition unet, ClipTextEncoder textEncoder, ConceptTokens tokens, PastDeltas past, NoiseSchedule schedule)
{
    /// <summary>
    /// Runs a task and returns what was handed to <paramref name="sink"/>. With <paramref name="classBatches"/> (prior
    /// preservation, diffusers' DreamBooth) each micro-batch adds w·MSE of a class batch, w =
    /// <see cref="TrainerOptions.PriorLossWeight"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">No concept token is training.</exception>
    /// <exception cref="OperationCanceledException">The run's cancellation was requested (adapters are detached, not folded).</exception>
    public TrainedTask Train(IBatchSource batches, TrainerOptions options, ITaskSink sink, TrainingRun? run = null, IBatchSource? classBatches = null)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sink);
        options.Validate();
        run ??= new TrainingRun();
        var token = tokens.Training ?? throw new InvalidOperationException("add the concept's token (ConceptTokens.Add) before training.");
        using var adapters = options.Method is TrainingMethod.CLora or TrainingMethod.Lora
            ? AdapterSet.Attach(unet, new AdapterOptions { Rank = options.Rank, Seed = options.Seed })
            : null;
        var denseLayers = options.Method == TrainingMethod.KvFinetune ? KeyValueLayers() : [];
        var denseStart = denseLayers.Select(l => l.Weight.Value.ToFloatArray()).ToList();
        var tensors = Trainable(adapters, denseLayers);
        bool checkpointing = unet.GradientCheckpointing;
        unet.GradientCheckpointing = options.GradientCheckpointing;
        try
        {
            int start = run.ResumeFrom is { } resumeFrom ? TrainerCheckpoint.Load(resumeFrom, options, tensors) : 0;
            for (int step = start; step < options.Steps; step++)
            {
                run.Cancellation.ThrowIfCancellationRequested();
                float factor = LearningRateSchedule.Factor(options.Schedule, step, options.WarmupSteps, options.Steps);
                var loss = Accumulate(batches, classBatches, options, adapters, step);
                Step(tensors, options, factor, step + 1);
                run.Progress?.Invoke(loss with { Step = step + 1, LearningRate = options.LearningRate * factor });
                if (run.CheckpointPath is { } path && options.CheckpointEvery > 0 && (step + 1) % options.CheckpointEvery == 0)
                    TrainerCheckpoint.Save(path(step + 1), step + 1, options, tensors);
                run.AfterStep?.Invoke(step + 1);
            }
            var deltas = denseLayers.Select((l, i) => DenseDelta(l, denseStart[i])).ToList();
            var task = new TrainedTask(token, tokens.ReadRow(token), Factors(adapters), deltas, options);
            sink.Complete(task);
            adapters?.Fold();
            tokens.Freeze();
            return task;
        }
        finally
        {
            unet.GradientCheckpointing = checkpointing;
            foreach (var t in tensors) t.Dispose();
        }
    }

    /// <summary>The tensors the method trains: the adapter factors or the K/V weights, then the token row.</summary>
    private List<TrainableTensor> Trainable(AdapterSet? adapters, IReadOnlyList<LinearLayer> denseLayers)
    {
        var list = new List<TrainableTensor>();
        if (adapters is not null)
            list.AddRange(adapters.NamedParameters().Select(p => TrainableTensor.Whole(p.Name, p.Value)));
        list.AddRange(denseLayers.Select(l => TrainableTensor.Whole(l.Name + ".weight", l.MakeWeightTrainable())));
        list.Add(new TrainableTensor("concept_token", tokens.Rows!, true, () => tokens.TrainingRow, () => tokens.TrainingGradient));
        return list;
    }

    /// <summary>The cross-attention K/V projections (the layers kv-finetune trains in full).</summary>
    private List<LinearLayer> KeyValueLayers()
    {
        var pattern = new Regex(AdapterOptions.CrossAttentionKeyValue, RegexOptions.CultureInvariant);
        return [.. unet.Descendants().OfType<LinearLayer>().Where(l => pattern.IsMatch(l.Name))];
    }

    /// <summary>W_trained − W_start of one kv-finetune layer, on the host in fp32.</summary>
    private static TrainedDenseDelta DenseDelta(LinearLayer layer, float[] start)
    {
        var delta = layer.Weight.Value.ToFloatArray();
        for (int i = 0; i < delta.Length; i++) delta[i] -= start[i];
        return new TrainedDenseDelta(layer.Name, layer.InFeatures, layer.OutFeatures, delta);
    }

    /// <summary>Forward and backward of the step's micro-batches; returns their mean loss values (step and rate left 0).</summary>
    private TrainingProgress Accumulate(IBatchSource batches, IBatchSource? classBatches, TrainerOptions options, AdapterSet? adapters, int step)
    {
        int count = options.GradientAccumulation;
        float total = 0, mse = 0, reg = 0, ratio = 0, classMse = 0;
        for (int micro = 0; micro < count; micro++)
        {
            long draw = (long)step * count + micro;
            var batch = batches.Next(draw);
            var classBatch = classBatches?.Next(draw);
            try
            {
                using var tape = Tape.Record();
                using var terms = CLoraLoss.Compute(unet, textEncoder, adapters, past, schedule, batch, options.EffectiveLambda, options.MinSnrGamma);
                using var classTerms = classBatch is null ? null : CLoraLoss.Compute(unet, textEncoder, null, past, schedule, classBatch, 0f, options.MinSnrGamma);
                using var prior = classTerms is null ? null : Ops.Scale(classTerms.Mse, options.PriorLossWeight);
                using var combined = prior is null ? null : Ops.Add(terms.Total, prior);
                using (var scaled = Ops.Scale(combined ?? terms.Total, 1f / count)) tape.Backward(scaled);
                var v = terms.Read();
                float c = classTerms?.Read().Mse ?? 0f;
                (total, mse, reg, ratio, classMse) = (total + (v.Total + options.PriorLossWeight * c) / count, mse + v.Mse / count,
                    reg + v.Regularizer / count, ratio + v.Ratio / count, classMse + c / count);
            }
            finally
            {
                Dispose(batch);
                if (classBatch is not null) Dispose(classBatch);
            }
        }
        return new TrainingProgress(0, total, mse, reg, ratio, classMse, 0f);
    }

    private static void Dispose(CLoraBatch batch)
    {
        batch.Latents.Dispose();
        batch.Noise.Dispose();
        batch.Timesteps.Dispose();
        batch.InputIds.Dispose();
    }

    /// <summary>Clips the gradients' global norm, steps AdamW on every tensor with a gradient, and clears the gradients.</summary>
    private static void Step(List<TrainableTensor> tensors, TrainerOptions options, float factor, int step)
    {
        var reached = tensors.Where(t => t.Gradient is not null).ToList();
        if (reached.Count > 0)
        {
            using var norm = GradientClipping.GlobalNorm([.. reached.Select(t => t.Gradient!.Value)]);
            using var scale = GradientClipping.ClipScale(norm, options.MaxGradNorm);
            foreach (var t in reached)
                Optimizer.AdamWStep(t.Value, t.Gradient!.Value, t.M, t.V,
                    t.IsToken ? options.TokenSettings(factor) : options.AdapterSettings(factor), step, scale);
        }
        foreach (var t in tensors) t.Owner.ZeroGrad();
    }

    private static List<TrainedFactors> Factors(AdapterSet? adapters) => adapters is null ? [] :
    [
        .. adapters.Layers.Select(l => new TrainedFactors(
            l.Name, l.Adapter.Rank, l.Adapter.InFeatures, l.Adapter.OutFeatures, l.Adapter.Down.Value.ToFloatArray(), l.Adapter.Up.Value.ToFloatArray())),
    ];
}
