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
/// exactly as the uninterrupted one. End of task: the factors and token row go to the <see cref="ITaskSink"/>, the
/// adapters are folded into the weights (W += up·down) and the token is frozen.
/// </summary>
/// <param name="unet">The UNet (K/V weights F32 for kv-finetune).</param>
/// <param name="textEncoder">The text encoder whose extra rows are <paramref name="tokens"/>'.</param>
/// <param name="tokens">The concept tokens; the concept's token must be the training one.</param>
/// <param name="past">The past deltas (empty on task 1).</param>
/// <param name="schedule">The training noise schedule.</param>
public sealed class CLoraTrainer(UNet2DCondition unet, ClipTextEncoder textEncoder, ConceptTokens tokens, PastDeltas past, NoiseSchedule schedule)
{
    /// <summary>Runs a task and returns what was handed to <paramref name="sink"/>.</summary>
    /// <exception cref="InvalidOperationException">No concept token is training.</exception>
    /// <exception cref="OperationCanceledException">The run's cancellation was requested (adapters are detached, not folded).</exception>
    public TrainedTask Train(IBatchSource batches, TrainerOptions options, ITaskSink sink, TrainingRun? run = null)
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
        var tensors = Trainable(options, adapters);
        try
        {
            int start = run is { Resume: true, CheckpointPath: { } resumeFrom } && File.Exists(resumeFrom)
                ? TrainerCheckpoint.Load(resumeFrom, options, tensors)
                : 0;
            for (int step = start; step < options.Steps; step++)
            {
                run.Cancellation.ThrowIfCancellationRequested();
                float factor = LearningRateSchedule.Factor(options.Schedule, step, options.WarmupSteps, options.Steps);
                var loss = Accumulate(batches, options, adapters, step);
                Step(tensors, options, factor, step + 1);
                run.Progress?.Invoke(new TrainingProgress(step + 1, loss.Total, loss.Mse, loss.Regularizer, loss.Ratio, options.LearningRate * factor));
                if (run.CheckpointPath is { } path && options.CheckpointEvery > 0 && (step + 1) % options.CheckpointEvery == 0)
                    TrainerCheckpoint.Save(path, step + 1, options, tensors);
            }
            var task = new TrainedTask(token, tokens.ReadRow(token), Factors(adapters), options);
            sink.Complete(task);
            adapters?.Fold();
            tokens.Freeze();
            return task;
        }
        finally
        {
            foreach (var t in tensors) t.Dispose();
        }
    }

    /// <summary>The tensors the method trains: the adapter factors or the K/V weights, then the token row.</summary>
    private List<TrainableTensor> Trainable(TrainerOptions options, AdapterSet? adapters)
    {
        var list = new List<TrainableTensor>();
        if (adapters is not null)
            list.AddRange(adapters.NamedParameters().Select(p => TrainableTensor.Whole(p.Name, p.Value)));
        if (options.Method == TrainingMethod.KvFinetune)
        {
            var pattern = new Regex(AdapterOptions.CrossAttentionKeyValue, RegexOptions.CultureInvariant);
            list.AddRange(unet.Descendants().OfType<LinearLayer>().Where(l => pattern.IsMatch(l.Name))
                .Select(l => TrainableTensor.Whole(l.Name + ".weight", l.MakeWeightTrainable())));
        }
        list.Add(new TrainableTensor("concept_token", tokens.Rows!, true, () => tokens.TrainingRow, () => tokens.TrainingGradient));
        return list;
    }

    /// <summary>Forward and backward of the step's micro-batches; returns their mean loss values.</summary>
    private CLoraLossValues Accumulate(IBatchSource batches, TrainerOptions options, AdapterSet? adapters, int step)
    {
        int count = options.GradientAccumulation;
        float total = 0, mse = 0, reg = 0, ratio = 0;
        for (int micro = 0; micro < count; micro++)
        {
            var batch = batches.Next((long)step * count + micro);
            try
            {
                using var tape = Tape.Record();
                using var terms = CLoraLoss.Compute(unet, textEncoder, adapters, past, schedule, batch, options.EffectiveLambda, options.MinSnrGamma);
                using (var scaled = Ops.Scale(terms.Total, 1f / count)) tape.Backward(scaled);
                var v = terms.Read();
                (total, mse, reg, ratio) = (total + v.Total / count, mse + v.Mse / count, reg + v.Regularizer / count, ratio + v.Ratio / count);
            }
            finally
            {
                batch.Latents.Dispose();
                batch.Noise.Dispose();
                batch.Timesteps.Dispose();
                batch.InputIds.Dispose();
            }
        }
        return new CLoraLossValues(total, mse, reg, ratio);
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
